import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { EngineLeaseFilter, EngineLeaseQueries } from "../leases/engine-queries.js";
import { createKeyedLimiter } from "../leases/limiter.js";
import { claimRunningOut, type Revoker } from "../leases/revoker.js";
import type { Actor } from "../leases/types.js";

/** Inline revocations run at once for one bulk request (one engine: one target). */
const CONCURRENCY = 4;
/** Leases revoked inline per request; any beyond are left to the reaper (already due). */
const INLINE_LIMIT = 10_000;
/**
 * Passes over what is still not revoked: concurrent revocations on one target can fail with
 * retryable conflicts (PostgreSQL's "tuple concurrently updated" when custom statements touch the
 * same ACLs); the next pass retries them at once instead of leaving them to the reaper's backoff.
 */
const PASSES = 3;

export interface BulkResult {
  /** Live leases newly queued for revocation by this request. */
  requested: number;
  /** Revoked during this request. */
  revoked: number;
  /** Still not final afterwards (failed attempts, creations in flight, paused revocation): the reaper retries them. */
  pending: number;
}

/**
 * Revokes many leases now (engine deletion, revoke-prefix) through the same lifecycle as one:
 * each live lease is recorded as REVOKING first (so the reaper owns it if we stop), then those
 * nobody holds are claimed and revoked here, each through the revoker.
 */
export function createBulkRevoker(deps: {
  queries: EngineLeaseQueries;
  revoker: Revoker;
  clock: Clock;
  instanceId: string;
  claimTtlMs: number;
  /** A queued revocation starts only while its claim has at least this long left (see claimRunningOut). */
  providerTimeoutMs: number;
  paused: boolean;
  log?: Logger | undefined;
}) {
  const { queries, clock } = deps;

  async function revoke(filter: EngineLeaseFilter, actor: Actor): Promise<BulkResult> {
    const now = clock.now();
    const requested = await queries.requestRevocation(filter, now, { type: "revoke_requested", actor, metadata: { reason: "engine_revoke" } });
    let revoked = 0;
    for (let pass = 0; pass < PASSES && !deps.paused; pass++) {
      const at = clock.now();
      const rows = await queries.claimRevoking(filter, { by: deps.instanceId, until: new Date(at.getTime() + deps.claimTtlMs) }, at, INLINE_LIMIT);
      const limiter = createKeyedLimiter(CONCURRENCY);
      let retryable = 0;
      await Promise.all(
        rows.map((lease) =>
          limiter.run("bulk", async () => {
            // Left for the reaper (already due): its claim runs out before a call could end.
            if (claimRunningOut(lease, clock.now(), deps.providerTimeoutMs)) return;
            try {
              const outcome = await deps.revoker.revokeClaimed(lease, actor);
              if (outcome.kind === "revoked") revoked++;
              else if (outcome.kind === "failed" && outcome.retryable) retryable++;
            } catch (err) {
              // Our database failed mid-way: the claim runs out and the reaper takes the lease.
              deps.log?.error({ err, leaseId: lease.id }, "could not record a revocation outcome");
            }
          }),
        ),
      );
      if (retryable === 0) break;
    }
    return { requested, revoked, pending: await queries.countLive(filter) };
  }

  return { revoke, countLive: (filter: EngineLeaseFilter) => queries.countLive(filter) };
}

export type BulkRevoker = ReturnType<typeof createBulkRevoker>;
