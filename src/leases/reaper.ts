import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { createPeriodicJob } from "../jobs/periodic.js";
import type { ServerKeys } from "../keys/server-keys.js";
import { createKeyedLimiter } from "./limiter.js";
import type { LeaseRepository } from "./repository.js";
import { claimRunningOut, type Revoker } from "./revoker.js";
import { openState } from "./state.js";
import type { LeaseRecord } from "./types.js";

const TRIP_AFTER = 2;

export interface ReaperSettings {
  /** node-cron expression, or "off" (tests and benchmarks call tick() themselves). */
  schedule: string;
  batchSize: number;
  concurrencyPerTarget: number;
  claimTtlMs: number;
  /**
   * The revoker's provider call timeout: a queued revocation starts only while its claim has at
   * least this long left, so the call ends (or times out) before another instance may take the row.
   */
  providerTimeoutMs: number;
  /** Delay before a lease skipped because its target just failed is due again. */
  skipDelayMs: number;
  paused: boolean;
}

export interface TickResult {
  claimed: number;
  revoked: number;
  failed: number;
  /** Claimed but handed back untouched (target failing in this tick, stopping, or the claim running out in the queue). */
  released: number;
}

/**
 * The reaper: the leases table is the schedule. A tick claims due rows in one short statement
 * (FOR UPDATE SKIP LOCKED, so concurrent instances never share a row), then revokes them outside
 * any transaction, at most `concurrencyPerTarget` at a time per provider configuration. A target
 * whose revocations fail with retryable errors TRIP_AFTER times in a row (no success between:
 * an outage, not the odd lock conflict) gets no more attempts in that tick: the rest of its
 * leases are released and come back after `skipDelayMs` without spending an attempt, so an
 * outage costs a couple of timeouts per tick rather than one per lease. A lease that waited in its
 * target's queue until its claim has less than a provider call left is not started but handed
 * back, due at once: past its claim another instance may already be revoking it. Nothing lives
 * in memory between ticks, so a restart has nothing to restore.
 */
export function createReaper(deps: {
  repo: Pick<LeaseRepository, "claimDue" | "release" | "releaseAll">;
  revoker: Revoker;
  keys: ServerKeys;
  clock: Clock;
  instanceId: string;
  settings: ReaperSettings;
  log?: Logger | undefined;
}) {
  const { repo, clock, settings, instanceId } = deps;
  const limiter = createKeyedLimiter(settings.concurrencyPerTarget);
  let stopping = false;

  async function targetOf(lease: LeaseRecord): Promise<string> {
    try {
      const state = openState(await deps.keys.get("leases"), lease.id, lease.stateCipher);
      return createHash("sha256").update(`${lease.provider}\n${JSON.stringify(state?.config ?? null)}`).digest("hex");
    } catch {
      return `${lease.provider}:unreadable`; // the revoker records why
    }
  }

  async function processBatch(rows: LeaseRecord[], result: TickResult): Promise<void> {
    const failuresInARow = new Map<string, number>();
    const tripped = (target: string) => (failuresInARow.get(target) ?? 0) >= TRIP_AFTER;
    const skipped: string[] = [];
    const lapsing: string[] = [];
    await Promise.all(
      rows.map(async (lease) => {
        const target = await targetOf(lease);
        await limiter.run(target, async () => {
          if (stopping || tripped(target)) return void skipped.push(lease.id);
          // In memory: the claim's end came back with the row, on this clock.
          if (claimRunningOut(lease, clock.now(), settings.providerTimeoutMs)) return void lapsing.push(lease.id);
          try {
            const outcome = await deps.revoker.revokeClaimed(lease);
            if (outcome.kind === "revoked") {
              result.revoked++;
              failuresInARow.set(target, 0);
            }
            if (outcome.kind === "failed") {
              result.failed++;
              if (outcome.retryable) failuresInARow.set(target, (failuresInARow.get(target) ?? 0) + 1);
            }
          } catch (err) {
            // Our own database failed mid-way: the claim runs out and the lease is due again.
            result.failed++;
            deps.log?.error({ err, leaseId: lease.id }, "reaper could not record a revocation outcome");
          }
        });
      }),
    );
    const now = clock.now();
    if (skipped.length > 0) {
      const next = stopping ? now : new Date(now.getTime() + settings.skipDelayMs);
      result.released += await repo.release(skipped, instanceId, next, now);
    }
    if (lapsing.length > 0) {
      // Only rows still ours (release is conditional on the claim); no attempt was spent on them.
      deps.log?.warn({ leases: lapsing.length }, "reaper claims ran out while queued behind their target; handed back");
      result.released += await repo.release(lapsing, instanceId, now, now);
    }
  }

  async function runOnce(): Promise<TickResult> {
    const result: TickResult = { claimed: 0, revoked: 0, failed: 0, released: 0 };
    if (settings.paused) return result;
    // Keep claiming while batches come back full: a backlog drains within one tick.
    while (!stopping) {
      const now = clock.now();
      const rows = await repo.claimDue({ by: instanceId, until: new Date(now.getTime() + settings.claimTtlMs) }, now, settings.batchSize);
      result.claimed += rows.length;
      if (rows.length > 0) await processBatch(rows, result);
      if (rows.length < settings.batchSize) break;
    }
    if (result.claimed > 0) deps.log?.info({ ...result }, "reaper tick");
    return result;
  }

  const job = createPeriodicJob({
    name: `leasehold-reaper-${instanceId}`,
    schedule: settings.schedule,
    label: "reaper tick",
    log: deps.log,
    run: runOnce,
  });

  return {
    /** One pass over due leases; calls queue behind a pass already running (cron or manual). */
    tick: job.runNow,
    /** Starts the schedule (no-op when "off"). */
    start(): void {
      if (settings.schedule === "off") return;
      if (settings.paused) deps.log?.warn("LEASEHOLD_REVOCATION_PAUSED: leases will not be revoked until it is unset");
      stopping = false;
      job.start();
    },
    /** Graceful: no new ticks, in-flight revocations finish, queued claims are handed back (due now). */
    async stop(): Promise<void> {
      stopping = true;
      await job.stop();
      await repo.releaseAll(instanceId, clock.now());
    },
  };
}

export type Reaper = ReturnType<typeof createReaper>;
