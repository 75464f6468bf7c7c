import type { Database } from "../db/database.js";

/** Every lease status, as the metrics label them (lower case, as Phase shows statuses). */
export const LEASE_STATES = ["creating", "active", "revoking", "revoke_failed", "revoked", "expired", "create_failed"] as const;

const BY_STATUS_SQL = `SELECT lower(status::text) AS state, count(*)::int AS n FROM leases GROUP BY status`;

/**
 * The reaper's "due" condition (src/leases/repository.ts claimDue): expired ACTIVE leases and
 * REVOKING / REVOKE_FAILED / CREATING leases whose next attempt time has come. Leases a reaper is
 * working on right now are not due (their next_attempt_at is the end of the claim).
 */
const DUE_SQL = `SELECT count(*)::int AS n FROM leases
  WHERE (status = 'ACTIVE' AND expires_at <= $1)
     OR (status IN ('REVOKING', 'REVOKE_FAILED', 'CREATING') AND next_attempt_at <= $1)`;

/** Counts read at scrape time: one grouped index scan each, no rows brought into Node. */
export function createLeaseStats(db: Pick<Database, "query">) {
  return {
    async countByState(): Promise<Record<(typeof LEASE_STATES)[number], number>> {
      const counts = Object.fromEntries(LEASE_STATES.map((s) => [s, 0])) as Record<(typeof LEASE_STATES)[number], number>;
      for (const row of await db.query<{ state: string; n: number }>(BY_STATUS_SQL)) {
        if (row.state in counts) counts[row.state as (typeof LEASE_STATES)[number]] = row.n;
      }
      return counts;
    },
    async countDue(now: Date): Promise<number> {
      const [row] = await db.query<{ n: number }>(DUE_SQL, [now]);
      return row?.n ?? 0;
    },
  };
}

export type LeaseStats = ReturnType<typeof createLeaseStats>;
