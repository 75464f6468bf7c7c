import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Database } from "../db/database.js";
import type { AuditSink } from "./events.js";
import { systemEvent } from "./management-events.js";
import { createPeriodicJob } from "../jobs/periodic.js";
import { READ_SET_TOUCH_SLACK } from "./insert.js";

const DAY_MS = 86_400_000;

// Each batch is one short statement (its own transaction): locks are held briefly, and SKIP LOCKED
// lets two instances prune side by side. Oldest rows first, through the time indexes.
const PRUNE_AUDIT_SQL = `
  DELETE FROM audit_events WHERE id IN (
    SELECT id FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2 FOR UPDATE SKIP LOCKED)`;

// A lease's events go only once the lease is over: the trail of a live credential is kept whatever its age.
const PRUNE_LEASE_SQL = `
  DELETE FROM lease_events WHERE id IN (
    SELECT le.id FROM lease_events le JOIN leases l ON l.id = le.lease_id
     WHERE le.created_at < $1 AND l.status IN ('REVOKED', 'EXPIRED', 'CREATE_FAILED')
     ORDER BY le.created_at LIMIT $2 FOR UPDATE OF le SKIP LOCKED)`;

// A read set goes once no kept read can name it: every read naming it happened at most the slack
// after its last_event_at (src/audit/insert.ts), so a set that old is named only by reads this pass
// deleted. A writer naming it meanwhile either moves last_event_at first (the DELETE re-checks the
// row and keeps it) or, after the DELETE, stores it again.
const PRUNE_READ_SETS_SQL = `
  DELETE FROM audit_read_sets WHERE id IN (
    SELECT id FROM audit_read_sets WHERE last_event_at < $1::timestamptz - interval '${READ_SET_TOUCH_SLACK}'
     ORDER BY last_event_at LIMIT $2 FOR UPDATE SKIP LOCKED)
   AND last_event_at < $1::timestamptz - interval '${READ_SET_TOUCH_SLACK}'`;

export interface RetentionSettings {
  /** Events older than this are deleted; 0 keeps everything (the job never runs). */
  days: number;
  /** node-cron expression (6 fields), or "off" (tests call runOnce themselves). */
  schedule: string;
  /** Rows per DELETE. */
  batchSize: number;
}

export interface PruneResult {
  auditEvents: number;
  leaseEvents: number;
  /** Events strictly older than this were deleted. */
  before: Date | null;
}

/**
 * AUDIT_RETENTION_DAYS: deletes audit events (and the events of finished leases) older than the
 * retention, in bounded batches, on a node-cron schedule started after listen. What it deleted is
 * itself recorded (`audit.prune`), so a gap in the log is explained by the log.
 */
export function createAuditRetention(deps: {
  db: Pick<Database, "query">;
  clock: Clock;
  audit: AuditSink;
  settings: RetentionSettings;
  log?: Logger | undefined;
}) {
  const { settings, clock } = deps;
  let stopping = false;

  async function pruneTable(sql: string, before: Date): Promise<number> {
    let total = 0;
    while (!stopping) {
      const deleted = (await deps.db.query<{ one: number }>(`${sql} RETURNING 1 AS one`, [before, settings.batchSize])).length;
      total += deleted;
      if (deleted < settings.batchSize) break;
    }
    return total;
  }

  async function runOnce(): Promise<PruneResult> {
    if (settings.days <= 0) return { auditEvents: 0, leaseEvents: 0, before: null };
    const now = clock.now();
    const before = new Date(now.getTime() - settings.days * DAY_MS);
    const auditEvents = await pruneTable(PRUNE_AUDIT_SQL, before);
    // Only after every old read is gone (a pass stopped half-way leaves the sets for the next one).
    if (!stopping) await pruneTable(PRUNE_READ_SETS_SQL, before);
    const leaseEvents = await pruneTable(PRUNE_LEASE_SQL, before);
    if (auditEvents + leaseEvents > 0) {
      deps.audit.record([systemEvent("audit.prune", now, { before: before.toISOString(), audit_events: auditEvents, lease_events: leaseEvents, retention_days: settings.days })]);
      deps.log?.info({ auditEvents, leaseEvents, before }, "audit retention: deleted old events");
    }
    return { auditEvents, leaseEvents, before };
  }

  const job = createPeriodicJob({
    name: "leasehold-audit-retention",
    schedule: settings.schedule,
    label: "audit retention pass",
    log: deps.log,
    run: runOnce,
  });

  return {
    /** One pruning pass; calls queue behind a pass already running (cron or manual). */
    runOnce: job.runNow,
    /** Starts the schedule (no-op with retention 0 or schedule "off"). */
    start(): void {
      if (settings.days <= 0 || settings.schedule === "off") return;
      stopping = false;
      job.start();
    },
    /** No new passes; a pass under way stops after its current batch. */
    async stop(): Promise<void> {
      stopping = true;
      await job.stop();
    },
  };
}

export type AuditRetention = ReturnType<typeof createAuditRetention>;
