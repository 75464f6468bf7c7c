import { AppError, BadRequestError, ConflictError, ForbiddenError, NotFoundError } from "../errors.js";

/**
 * Python's str() of an aware UTC datetime: `2025-10-27 12:49:26.611113+00:00`. Like Python, the
 * fraction is left out when it is zero (our clock has milliseconds, so micros end in 000).
 */
export function pythonDatetime(d: Date): string {
  const iso = d.toISOString(); // 2025-10-27T12:49:26.611Z
  const ms = d.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms * 1000).padStart(6, "0")}` : ""}+00:00`;
}

/** Lease errors with Phase's exact messages (its clients match on them) where Phase has one. */
export const LeaseMessages = {
  ttlTooShort: "The specified TTL must be at least 60 seconds.",
  ttlExceedsMax: "The specified TTL exceeds the maximum TTL for this dynamic secret.",
  renewalExceedsMax: (remaining: number) =>
    `The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: ${remaining} seconds`,
  expired: "This lease has expired and cannot be renewed",
  revokedCannotRenew: "This lease has been revoked and cannot be renewed.",
  /** Phase's renewal of a revoked lease (its `str(revoked_at)`). */
  alreadyRevoked: (revokedAt: Date) => `Lease has already been revoked at ${pythonDatetime(revokedAt)}`,
  creatingCannotRenew: "This lease is still being created and cannot be renewed yet.",
  creatingCannotRevoke: "This lease is still being created; try again in a moment.",
  renewalTtlPositive: "The renewal TTL must be a positive number of seconds.",
  definitionGone: "The dynamic secret of this lease has been deleted; the lease cannot be renewed.",
  notFound: "Lease not found",
  secretNotFound: "Secret not found",
  forbiddenUpdate: "You don't have permission to update leases for other accounts.",
  forbiddenDelete: "You don't have permission to delete leases for other accounts.",
  forbiddenForce: "Only an Owner or Admin can force-revoke a lease.",
  createFailed: "An internal error occurred while creating the lease",
  renewFailed: "An internal error occurred while renewing the lease",
} as const;

export class TtlError extends BadRequestError {}

export class LeaseNotFoundError extends NotFoundError {
  constructor() {
    super(LeaseMessages.notFound);
  }
}

export class LeaseStateError extends BadRequestError {}

export class LeaseBusyError extends ConflictError {}

export class LeasePermissionError extends ForbiddenError {}

/**
 * The provider failed to create (or renew) the credential. 500 with Phase's generic message; the
 * scrubbed cause is in the lease's last_error and the log, never in the response.
 */
export class LeaseProviderError extends AppError {
  /** The provider's failure (scrubbed by the provider), for callers that classify it; not enumerable, so never logged or sent. */
  declare readonly providerCause: unknown;
  constructor(message: string, providerCause?: unknown) {
    super(500, message);
    Object.defineProperty(this, "providerCause", { value: providerCause, enumerable: false });
  }
}
