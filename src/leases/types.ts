import type { Principal } from "../auth/principal.js";
import type { Bytes } from "../crypto/aead.js";
import type { LeaseStatus } from "../generated/prisma/enums.js";

export type { LeaseStatus };

/**
 * The lease state machine:
 *
 *   CREATING ──create ok──▶ ACTIVE ──expiry / revoke request / definition deleted──▶ REVOKING
 *      │                                                                              │   ▲
 *      └─create failed or timed out──▶ REVOKING (creation_failed)                     │   │ slow retry
 *                                                                                     ▼   │
 *   REVOKING ──revoke ok──▶ REVOKED (manual, engine_revoke, undelivered)               REVOKE_FAILED
 *                           | EXPIRED (expired, definition_deleted)
 *                           | CREATE_FAILED (creation_failed)            (after max attempts)
 *   any live status ──force (Owner/Admin)──▶ REVOKED (forced)
 */
/** `undelivered`: created in a request that then failed, so its credential never reached anyone. */
export type RevokeReason = "manual" | "expired" | "definition_deleted" | "creation_failed" | "forced" | "engine_revoke" | "undelivered";

/** Statuses in which nothing more happens to a lease. */
export const FINAL_STATUSES: readonly LeaseStatus[] = ["REVOKED", "EXPIRED", "CREATE_FAILED"];
/** Statuses in which revocation is pending (and being retried). */
export const REVOKING_STATUSES: readonly LeaseStatus[] = ["REVOKING", "REVOKE_FAILED"];

export const isFinal = (s: LeaseStatus) => FINAL_STATUSES.includes(s);

/** Where a lease ends once its credential is gone, by why it was revoked (Phase marks scheduled ones expired). */
export function finalStatusFor(reason: string | null): LeaseStatus {
  switch (reason) {
    case "manual":
    case "forced":
    case "engine_revoke":
    case "undelivered":
      return "REVOKED";
    case "creation_failed":
      return "CREATE_FAILED";
    default:
      return "EXPIRED";
  }
}

/** A lease row as the lifecycle code reads it. */
export interface LeaseRecord {
  id: string;
  dynamicSecretId: string | null;
  /** Null for leases minted on the server-wide engine surface (/v1/dynamic/). */
  environmentId: string | null;
  /** The engine and role a lease was minted from (/v1/dynamic/, or a Phase secret backed by one). */
  engineId: string | null;
  engineRole: string | null;
  /** The caller's metadata from /v1/dynamic/ creds requests (never secrets). */
  metadata: unknown;
  provider: string;
  name: string;
  description: string;
  ownerUserId: string | null;
  ownerServiceAccountId: string | null;
  status: LeaseStatus;
  ttlSeconds: number;
  createdAt: Date;
  renewedAt: Date | null;
  expiresAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
  upstreamIdentity: string;
  stateCipher: Uint8Array;
  attempts: number;
  nextAttemptAt: Date | null;
  claimedBy: string | null;
  claimedUntil: Date | null;
  lastError: string | null;
}

/** A lease as the repository's insertCreating records it: CREATING, claimed by its creator. */
export interface NewLease {
  id: string;
  dynamicSecretId: string | null;
  environmentId: string | null;
  engineId: string | null;
  engineRole: string | null;
  metadata: Record<string, unknown> | null;
  provider: string;
  name: string;
  description: string;
  ownerUserId: string | null;
  ownerServiceAccountId: string | null;
  ttlSeconds: number;
  createdAt: Date;
  expiresAt: Date;
  upstreamIdentity: string;
  stateCipher: Bytes;
  claimedBy: string;
  claimedUntil: Date;
}

/** Claim ownership for `until`: exclusive until then, and due again then if the holder vanished. */
export interface Claim {
  by: string;
  until: Date;
}

/** Who did something to a lease, for lease_events: null for the reaper. */
export interface Actor {
  principal: Principal | null;
  ipAddress?: string | undefined;
  userAgent?: string | undefined;
}

export const SYSTEM_ACTOR: Actor = { principal: null };

export interface LeaseEventInput {
  type: LeaseEventType;
  actor: Actor;
  /** Never a secret: scrubbed errors, reasons, counts, identities. */
  metadata?: Record<string, unknown>;
}

export type LeaseEventType =
  | "created"
  | "create_failed"
  | "renewed"
  | "revoke_requested"
  | "revoke_attempt_failed"
  | "revoke_failed"
  | "revoked"
  | "expired"
  | "rolled_back"
  | "force_revoked";

/** The lease_events type written when a lease reaches its final status. */
export function finalEventFor(status: LeaseStatus): LeaseEventType {
  return status === "REVOKED" ? "revoked" : status === "CREATE_FAILED" ? "rolled_back" : "expired";
}
