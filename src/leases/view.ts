import type { LeaseRecord, LeaseStatus } from "./types.js";

export type LeaseOwner =
  /** createdAt/updatedAt: from the users table (lists) or the caller's principal (the token lookup reads them). */
  | { type: "user"; id: string; email: string; username: string | null; fullName: string | null; role: string; createdAt?: Date; updatedAt?: Date }
  | { type: "service_account"; id: string; name: string };

/** What the HTTP layer needs to render a lease (Phase's lease shape plus our lifecycle fields). Never secrets. */
export interface LeaseView {
  id: string;
  name: string;
  description: string;
  /** The dynamic secret (definition) id; null once the definition is gone for good. */
  secretId: string | null;
  environmentId: string | null;
  provider: string;
  /** Cumulative TTL granted, seconds (Phase's lease.ttl). */
  ttl: number;
  status: LeaseStatus;
  revokeReason: string | null;
  owner: LeaseOwner | null;
  /** The upstream role or user name. */
  upstreamIdentity: string;
  attempts: number;
  nextAttemptAt: Date | null;
  /** Why the last revocation attempt (or the creation) failed, scrubbed of secrets. */
  lastError: string | null;
  createdAt: Date;
  renewedAt: Date | null;
  expiresAt: Date;
  revokedAt: Date | null;
}

export function toLeaseView(l: LeaseRecord, owner: LeaseOwner | null): LeaseView {
  return {
    id: l.id,
    name: l.name,
    description: l.description,
    secretId: l.dynamicSecretId,
    environmentId: l.environmentId,
    provider: l.provider,
    ttl: l.ttlSeconds,
    status: l.status,
    revokeReason: l.revokeReason,
    owner,
    upstreamIdentity: l.upstreamIdentity,
    attempts: l.attempts,
    nextAttemptAt: l.nextAttemptAt,
    lastError: l.lastError,
    createdAt: l.createdAt,
    renewedAt: l.renewedAt,
    expiresAt: l.expiresAt,
    revokedAt: l.revokedAt,
  };
}
