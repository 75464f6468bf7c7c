import type { Logger } from "pino";
import type { Prisma } from "../db/database.js";
import type { AuditEventInput, AuditSink } from "./events.js";

/** Past this many unwritten events (database down for long) new events are refused, loudly. */
const HARD_CAP = 1_000_000;

/**
 * Batches audit events off the request path: `record` only appends to a buffer; a timer (or a full
 * batch) writes them with one multi-row INSERT. A failed write keeps the events and retries on the
 * next tick, so nothing is dropped silently; `close` writes what is left (graceful shutdown).
 */
export function createAuditWriter(deps: { prisma: Prisma; log: Logger; intervalMs: number; batchSize: number }): AuditSink {
  let buffer: AuditEventInput[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;
  let refused = 0;

  const timer = setInterval(() => void flush().catch(() => undefined), deps.intervalMs);
  timer.unref();

  async function writeBatch(batch: AuditEventInput[]): Promise<void> {
    await deps.prisma.auditEvent.createMany({ data: batch.map(toRow) });
  }

  async function drain(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, deps.batchSize);
      try {
        await writeBatch(batch);
      } catch (err) {
        deps.log.error({ err, pending: buffer.length }, "audit write failed; will retry");
        throw err;
      }
      buffer = buffer.slice(batch.length);
    }
  }

  /** One drain at a time; callers share the running one. */
  function flush(): Promise<void> {
    if (!flushing) {
      flushing = drain().finally(() => {
        flushing = undefined;
      });
    }
    return flushing;
  }

  return {
    record(events) {
      if (events.length === 0) return;
      if (buffer.length + events.length > HARD_CAP) {
        refused += events.length;
        deps.log.error({ refused, pending: buffer.length }, "audit buffer full: events refused");
        return;
      }
      buffer.push(...events);
      if (buffer.length >= deps.batchSize || closed) void flush().catch(() => undefined);
    },
    async flush() {
      // A drain already running may have started before the latest records: wait, then drain again.
      while (flushing) await flushing.catch(() => undefined);
      await flush();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await this.flush();
    },
  };
}

function toRow(e: AuditEventInput) {
  const p = e.principal;
  return {
    occurredAt: e.occurredAt,
    eventType: e.eventType,
    accountType: p ? p.kind : null,
    userId: p?.kind === "user" ? p.id : null,
    serviceAccountId: p?.kind === "service_account" ? p.id : null,
    tokenId: p?.tokenId ?? null,
    ipAddress: e.ipAddress ?? null,
    userAgent: e.userAgent ?? null,
    appId: e.appId ?? null,
    environmentId: e.environmentId ?? null,
    secretId: e.secretId ?? null,
    path: e.path ?? null,
    keyDigest: e.keyDigest ?? null,
    version: e.version ?? null,
    ...(e.metadata ? { metadata: e.metadata as object } : {}),
  };
}
