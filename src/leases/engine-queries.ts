import type { Database } from "../db/database.js";
import { Prisma as P } from "../generated/prisma/client.js";
import type { LeaseStatus } from "../generated/prisma/enums.js";
import { COLUMNS, transition, type Claim } from "./repository.js";
import type { LeaseEventInput, LeaseRecord } from "./types.js";

/** Which leases minted from engines (engine_role set) a query is about. */
export interface EngineLeaseFilter {
  engineId?: string | undefined;
  role?: string | undefined;
  statuses?: LeaseStatus[] | undefined;
  /** Leading characters of the lease id (lower-case hex and dashes). */
  idPrefix?: string | undefined;
}

function where(f: EngineLeaseFilter): P.Sql {
  const parts: P.Sql[] = [P.sql`engine_role IS NOT NULL`];
  if (f.engineId !== undefined) parts.push(P.sql`engine_id = ${f.engineId}::uuid`);
  if (f.role !== undefined) parts.push(P.sql`engine_role = ${f.role}`);
  if (f.statuses?.length) parts.push(P.sql`status::text IN (${P.join(f.statuses)})`);
  if (f.idPrefix) {
    if (!/^[0-9a-f-]+$/.test(f.idPrefix)) parts.push(P.sql`FALSE`);
    else parts.push(P.sql`id::text LIKE ${`${f.idPrefix}%`}`);
  }
  return P.join(parts, " AND ");
}

/** Lease queries of the /v1/dynamic/ surface (the lifecycle transitions stay in repository.ts). */
export function createEngineLeaseQueries(database: Database) {
  const db = database.prisma;
  return {
    /** Newest first; `before` continues after the last row of a previous page. */
    list(f: EngineLeaseFilter, limit: number, before?: { createdAt: Date; id: string }): Promise<LeaseRecord[]> {
      const after = before ? P.sql`AND (created_at, id) < (${before.createdAt}, ${before.id}::uuid)` : P.empty;
      return db.$queryRaw<LeaseRecord[]>`
        SELECT ${COLUMNS} FROM leases WHERE ${where(f)} ${after}
         ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
    },

    /**
     * Revocation of every live lease matching `f` (ACTIVE, and CREATING ones, whose creator then
     * fails to activate and rolls back), due now; REVOKING ones keep their reason. Returns how many.
     */
    async requestRevocation(f: EngineLeaseFilter, now: Date, event: LeaseEventInput): Promise<number> {
      const rows = await transition(db, P.sql`
        UPDATE leases SET status = 'REVOKING', revoke_reason = 'engine_revoke',
               next_attempt_at = CASE WHEN status = 'CREATING' THEN next_attempt_at ELSE ${now} END, updated_at = ${now}
         WHERE ${where(f)} AND status IN ('ACTIVE', 'CREATING')`, event, now);
      return rows.length;
    },

    /** Claims matching REVOKING / REVOKE_FAILED rows nobody holds, to revoke them inline. */
    claimRevoking(f: EngineLeaseFilter, claim: Claim, now: Date, limit: number): Promise<LeaseRecord[]> {
      return db.$queryRaw<LeaseRecord[]>`
        WITH due AS (
          SELECT id FROM leases WHERE ${where(f)} AND status IN ('REVOKING', 'REVOKE_FAILED')
             AND (claimed_by IS NULL OR claimed_until <= ${now})
           ORDER BY created_at, id LIMIT ${limit}
           FOR UPDATE SKIP LOCKED
        )
        UPDATE leases SET claimed_by = ${claim.by}, claimed_until = ${claim.until}, next_attempt_at = ${claim.until}, updated_at = ${now}
          FROM due WHERE leases.id = due.id
        RETURNING ${COLUMNS}`;
    },

    /** How many matching leases are not final yet. */
    async countLive(f: EngineLeaseFilter): Promise<number> {
      const rows = await db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM leases WHERE ${where(f)} AND status NOT IN ('REVOKED', 'EXPIRED', 'CREATE_FAILED')`;
      return rows[0]?.n ?? 0;
    },
  };
}

export type EngineLeaseQueries = ReturnType<typeof createEngineLeaseQueries>;
