import type { Bytes } from "../crypto/aead.js";
import type { Database } from "../db/database.js";
import { isForeignKeyViolation } from "../db/prisma-errors.js";
import { Prisma as P } from "../generated/prisma/client.js";
import type { LeaseStatus } from "../generated/prisma/enums.js";
import { ACTIVATE_SQL, COLUMNS, ERASED_STATE, INSERT_CREATING_SQL, transition } from "./sql.js";
import type { Claim, LeaseEventInput, LeaseRecord, NewLease, RevokeReason } from "./types.js";

export { COLUMNS, transition } from "./sql.js";
export type { Claim, NewLease } from "./types.js";

export function createLeaseRepository(database: Database) {
  const db = database.prisma;
  return {
    /**
     * Step 2 of create: the intent, recorded before anything exists upstream. False (nothing
     * inserted) when the lease's definition is no longer live, or was deleted with its app while
     * this insert waited on it (a foreign key violation).
     */
    async insertCreating(l: NewLease): Promise<boolean> {
      const rows = await database.query(
        INSERT_CREATING_SQL,
        [l.id, l.dynamicSecretId, l.environmentId, l.provider, l.name, l.description, l.ownerUserId, l.ownerServiceAccountId,
          l.ttlSeconds, l.createdAt, l.expiresAt, l.upstreamIdentity, l.stateCipher, l.claimedBy, l.claimedUntil,
          l.engineId, l.engineRole, l.metadata === null ? null : JSON.stringify(l.metadata)],
        { name: "lh_lease_insert_creating" },
      ).catch((err: unknown) => {
        // Only the definition's key: an engine deleted meanwhile is the engine code's error to give.
        if (isForeignKeyViolation(err) && /dynamic_secret_id/.test(String((err as { constraint?: unknown }).constraint ?? (err as Error).message))) return [];
        throw err;
      });
      return rows.length === 1;
    },

    /**
     * Step 4 of create: only if the row is still ours and still CREATING (the reaper may have taken
     * it) and its definition, if any, is still live (see ACTIVATE_SQL).
     */
    async activate(id: string, claimedBy: string, state: Bytes, now: Date, event: LeaseEventInput): Promise<boolean> {
      const p = event.actor.principal;
      const rows = await database.query(
        ACTIVATE_SQL,
        [id, claimedBy, state, now, event.type, p?.kind === "user" ? p.id : null, p?.kind === "service_account" ? p.id : null,
          event.actor.ipAddress ?? null, event.actor.userAgent ?? null, JSON.stringify(event.metadata ?? {})],
        { name: "lh_lease_activate" },
      );
      return rows.length === 1;
    },

    /**
     * A create that failed, or finished after losing its row: queue the lease for revocation with
     * the freshest state and claim it, whatever the row says now (a reaper's in-flight attempt on
     * it then fails its conditional finalize and the lease is revoked once more, after create).
     */
    async queueRollback(id: string, state: Bytes, claim: Claim, lastError: string, now: Date, event: LeaseEventInput) {
      const rows = await transition(db, P.sql`
        UPDATE leases SET status = 'REVOKING', revoke_reason = COALESCE(revoke_reason, 'creation_failed'),
               state_cipher = ${state}, revoked_at = NULL, claimed_by = ${claim.by}, claimed_until = ${claim.until},
               next_attempt_at = ${claim.until}, last_error = ${lastError}, updated_at = ${now}
         WHERE id = ${id}::uuid`, event, now);
      return rows[0] ?? null;
    },

    /**
     * The reaper's claim, one statement: due rows (expired ACTIVE; REVOKING/REVOKE_FAILED whose
     * retry time came; CREATING whose creator's claim ran out, or a claim held by a vanished
     * instance) are locked with SKIP LOCKED, so concurrent reapers never take the same row, and
     * marked as ours. Expired ACTIVE rows become REVOKING (expired), stale CREATING rows REVOKING
     * (creation_failed).
     */
    claimDue(claim: Claim, now: Date, limit: number): Promise<LeaseRecord[]> {
      return db.$queryRaw<LeaseRecord[]>`
        WITH due AS (
          SELECT id FROM leases
           WHERE (status = 'ACTIVE' AND expires_at <= ${now})
              OR (status IN ('REVOKING', 'REVOKE_FAILED', 'CREATING') AND next_attempt_at <= ${now})
           ORDER BY COALESCE(next_attempt_at, expires_at), id
           LIMIT ${limit}
           FOR UPDATE SKIP LOCKED
        )
        UPDATE leases SET
               status = CASE WHEN leases.status IN ('ACTIVE', 'CREATING') THEN 'REVOKING'::"LeaseStatus" ELSE leases.status END,
               revoke_reason = CASE leases.status WHEN 'ACTIVE' THEN 'expired'
                                                  WHEN 'CREATING' THEN COALESCE(leases.revoke_reason, 'creation_failed')
                                                  ELSE leases.revoke_reason END,
               last_error = CASE WHEN leases.status = 'CREATING'
                                 THEN 'Creation did not complete in time (the server stopped or the provider hung).'
                                 ELSE leases.last_error END,
               claimed_by = ${claim.by}, claimed_until = ${claim.until}, next_attempt_at = ${claim.until}, updated_at = ${now}
          FROM due WHERE leases.id = due.id
        RETURNING ${COLUMNS}`;
    },

    /**
     * A revoke request: ACTIVE → REVOKING with `reason`; REVOKING/REVOKE_FAILED keep their reason.
     * With `claim`, the caller also takes the row to revoke it inline, unless someone holds it.
     */
    async requestRevocation(id: string, reason: RevokeReason, claim: Claim | null, now: Date, event: LeaseEventInput) {
      const rows = await transition(db, P.sql`
        UPDATE leases SET
               status = CASE WHEN status = 'ACTIVE' THEN 'REVOKING'::"LeaseStatus" ELSE status END,
               revoke_reason = CASE WHEN status = 'ACTIVE' THEN ${reason} ELSE revoke_reason END,
               claimed_by = ${claim?.by ?? null}, claimed_until = ${claim?.until ?? null},
               next_attempt_at = ${claim?.until ?? now}, updated_at = ${now}
         WHERE id = ${id}::uuid AND status IN ('ACTIVE', 'REVOKING', 'REVOKE_FAILED')
           AND (claimed_by IS NULL OR claimed_until <= ${now})`, event, now);
      return rows[0] ?? null;
    },

    /**
     * Definition deleted: every live lease is revoked (EXPIRED at the end, as Phase does). CREATING
     * rows stay with their creator until its claim runs out; its activation then fails and it
     * rolls back what it made. A CREATING row this statement cannot see yet (its insert commits
     * after this statement starts) fails its activation too: the definition is deleted by then.
     */
    async requestRevocationOfDefinition(dynamicSecretId: string, now: Date, event: LeaseEventInput): Promise<number> {
      const rows = await transition(db, P.sql`
        UPDATE leases SET status = 'REVOKING', revoke_reason = 'definition_deleted',
               next_attempt_at = CASE WHEN status = 'CREATING' THEN next_attempt_at ELSE ${now} END, updated_at = ${now}
         WHERE dynamic_secret_id = ${dynamicSecretId}::uuid AND status IN ('ACTIVE', 'CREATING')`, event, now);
      return rows.length;
    },

    /**
     * An app deleted (its definitions with it, which leaves their leases without a definition id):
     * every live lease of its environments is revoked, as for a deleted definition. Called before
     * the delete and after it: a CREATING row committed after the second call started was inserted
     * before the delete (its definition row's key lock holds the delete back) or fails its insert
     * (no definition, or a foreign key violation); ACTIVATE_SQL refuses a row whose environment it
     * sees gone.
     */
    async requestRevocationOfEnvironments(environmentIds: string[], now: Date, event: LeaseEventInput): Promise<number> {
      if (environmentIds.length === 0) return 0;
      const rows = await transition(db, P.sql`
        UPDATE leases SET status = 'REVOKING', revoke_reason = 'definition_deleted',
               next_attempt_at = CASE WHEN status = 'CREATING' THEN next_attempt_at ELSE ${now} END, updated_at = ${now}
         WHERE environment_id = ANY(${environmentIds}::uuid[]) AND status IN ('ACTIVE', 'CREATING')`, event, now);
      return rows.length;
    },

    /** Revocation succeeded: the final status, state erased, claim cleared; only while we hold it. */
    async finalize(id: string, claimedBy: string, status: LeaseStatus, now: Date, event: LeaseEventInput): Promise<boolean> {
      const rows = await transition(db, P.sql`
        UPDATE leases SET status = ${status}::"LeaseStatus", revoked_at = ${now}, state_cipher = ${ERASED_STATE},
               claimed_by = NULL, claimed_until = NULL, next_attempt_at = NULL, updated_at = ${now},
               last_error = CASE WHEN revoke_reason = 'creation_failed' THEN last_error ELSE NULL END
         WHERE id = ${id}::uuid AND claimed_by = ${claimedBy} AND status IN ('REVOKING', 'REVOKE_FAILED')`, event, now);
      return rows.length === 1;
    },

    /** A failed attempt: back off (or give up to REVOKE_FAILED), release the claim. */
    async recordFailure(
      id: string,
      claimedBy: string,
      f: { status: "REVOKING" | "REVOKE_FAILED"; attempts: number; nextAttemptAt: Date; lastError: string },
      now: Date,
      event: LeaseEventInput,
    ): Promise<boolean> {
      const rows = await transition(db, P.sql`
        UPDATE leases SET status = ${f.status}::"LeaseStatus", attempts = ${f.attempts}, next_attempt_at = ${f.nextAttemptAt},
               last_error = ${f.lastError}, claimed_by = NULL, claimed_until = NULL, updated_at = ${now}
         WHERE id = ${id}::uuid AND claimed_by = ${claimedBy} AND status IN ('REVOKING', 'REVOKE_FAILED')`, event, now);
      return rows.length === 1;
    },

    /** Hands a claimed row back untouched, due again at `nextAttemptAt`. */
    async release(ids: string[], claimedBy: string, nextAttemptAt: Date, now: Date): Promise<number> {
      if (ids.length === 0) return 0;
      return db.$executeRaw`
        UPDATE leases SET claimed_by = NULL, claimed_until = NULL, next_attempt_at = ${nextAttemptAt}, updated_at = ${now}
         WHERE id IN (${P.join(ids.map((i) => P.sql`${i}::uuid`))}) AND claimed_by = ${claimedBy}
           AND status IN ('REVOKING', 'REVOKE_FAILED')`;
    },

    /** Graceful stop: every revocation claim this instance holds, due again now. */
    releaseAll(claimedBy: string, now: Date): Promise<number> {
      return db.$executeRaw`
        UPDATE leases SET claimed_by = NULL, claimed_until = NULL, next_attempt_at = ${now}, updated_at = ${now}
         WHERE claimed_by = ${claimedBy} AND status IN ('REVOKING', 'REVOKE_FAILED')`;
    },

    /** Phase's renewal: expiry and cumulative ttl both grow by `ttl`; guarded against a concurrent change. */
    async renew(id: string, ttl: number, expected: { ttlSeconds: number }, now: Date, event: LeaseEventInput) {
      const rows = await transition(db, P.sql`
        UPDATE leases SET expires_at = expires_at + make_interval(secs => ${ttl}), ttl_seconds = ttl_seconds + ${ttl},
               renewed_at = ${now}, updated_at = ${now}
         WHERE id = ${id}::uuid AND status = 'ACTIVE' AND expires_at > ${now} AND ttl_seconds = ${expected.ttlSeconds}`, event, now);
      return rows[0] ?? null;
    },

    /** Vault-style renewal: the expiry set to `expiresAt` (from now), guarded against a concurrent change. */
    async renewTo(id: string, expiresAt: Date, ttlSeconds: number, expectedExpiresAt: Date, now: Date, event: LeaseEventInput) {
      const rows = await transition(db, P.sql`
        UPDATE leases SET expires_at = ${expiresAt}, ttl_seconds = ${ttlSeconds}, renewed_at = ${now}, updated_at = ${now}
         WHERE id = ${id}::uuid AND status = 'ACTIVE' AND expires_at > ${now} AND expires_at = ${expectedExpiresAt}`, event, now);
      return rows[0] ?? null;
    },

    /** Force: REVOKED (forced) whatever upstream says; state erased; any claim voided. */
    async forceRevoke(id: string, now: Date, event: LeaseEventInput) {
      const rows = await transition(db, P.sql`
        UPDATE leases SET status = 'REVOKED', revoke_reason = 'forced', revoked_at = ${now}, state_cipher = ${ERASED_STATE},
               claimed_by = NULL, claimed_until = NULL, next_attempt_at = NULL, updated_at = ${now}
         WHERE id = ${id}::uuid AND status NOT IN ('REVOKED', 'EXPIRED', 'CREATE_FAILED')`, event, now);
      return rows[0] ?? null;
    },

    /** Is this definition live (not soft-deleted)? For the create path's error after a failed activation. */
    async isDefinitionLive(dynamicSecretId: string): Promise<boolean> {
      const rows = await db.$queryRaw<unknown[]>`
        SELECT 1 FROM dynamic_secrets WHERE id = ${dynamicSecretId}::uuid AND deleted_at IS NULL`;
      return rows.length === 1;
    },

    async find(id: string): Promise<LeaseRecord | null> {
      const rows = await db.$queryRaw<LeaseRecord[]>`SELECT ${COLUMNS} FROM leases WHERE id = ${id}::uuid`;
      return rows[0] ?? null;
    },

    /** A definition's leases, newest first; optionally only one account's. */
    listByDefinition(dynamicSecretId: string, owner?: { userId: string } | { serviceAccountId: string }): Promise<LeaseRecord[]> {
      const ownerSql = !owner
        ? P.empty
        : "userId" in owner
          ? P.sql`AND owner_user_id = ${owner.userId}::uuid`
          : P.sql`AND owner_service_account_id = ${owner.serviceAccountId}::uuid`;
      return db.$queryRaw<LeaseRecord[]>`
        SELECT ${COLUMNS} FROM leases WHERE dynamic_secret_id = ${dynamicSecretId}::uuid ${ownerSql}
         ORDER BY created_at DESC, id DESC`;
    },

    async addEvent(leaseId: string, event: LeaseEventInput, now: Date): Promise<void> {
      const p = event.actor.principal;
      await db.leaseEvent.create({
        data: {
          leaseId,
          eventType: event.type,
          userId: p?.kind === "user" ? p.id : null,
          serviceAccountId: p?.kind === "service_account" ? p.id : null,
          ipAddress: event.actor.ipAddress ?? null,
          userAgent: event.actor.userAgent ?? null,
          metadata: (event.metadata ?? {}) as object,
          createdAt: now,
        },
      });
    },
  };
}

export type LeaseRepository = ReturnType<typeof createLeaseRepository>;
