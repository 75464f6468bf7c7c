import type { Logger } from "pino";
import type { AuditEventInput, AuditSink } from "./events.js";
import type { AuditInsert } from "./insert.js";
import { toAuditRow } from "./rows.js";

/** Past this many unwritten events (database down for long) new events are refused, loudly. */
const HARD_CAP = 1_000_000;
/** Longest pause between retries while the database refuses writes. */
const MAX_BACKOFF_MS = 30_000;
/** A lone event the database refuses this many times, while it accepts the events behind it, is dropped (logged in full). */
const POISON_STRIKES = 3;

export interface AuditWriterDeps {
  /** Writes one batch as one statement: `auditInserter(db)` from ./insert.ts. */
  insert: AuditInsert;
  log: Logger;
  /** Buffered events are written at least this often. */
  intervalMs: number;
  /** Rows per INSERT; a full batch is written at once. */
  batchSize: number;
  /** Pauses between the last write attempts on close, before unwritten events are logged instead. */
  closeRetryDelaysMs?: number[];
}

/**
 * Batches audit events off the request path: `record` only appends to a buffer; a full batch, the
 * timer, `flush` or `close` writes them, one multi-row INSERT per batch.
 *
 * Nothing is dropped silently. A failed write keeps its events and is retried with backoff (the
 * batch halving on each failure, so one event the database rejects ends up alone). A lone event
 * that keeps failing while the database accepts the events behind it is logged in full at error
 * level and dropped, so it cannot block the trail. On `close`, events that still cannot be written
 * after a few attempts are logged at error level, in full.
 */
export function createAuditWriter(deps: AuditWriterDeps): AuditSink {
  const { batchSize, log } = deps;
  let buffer: AuditEventInput[] = [];
  let running: Promise<void> | undefined;
  let closed = false;
  let headSize = batchSize; // the next write's size: halves after each failure, back to full on success
  let headStrikes = 0;
  let failures = 0;
  let retryAt = 0;
  let refused = 0;
  let refusedLoggedAt = 0;

  const timer = setInterval(() => {
    if (Date.now() >= retryAt) void start(true).catch(() => undefined);
  }, deps.intervalMs);
  timer.unref();

  const insert = (batch: AuditEventInput[]) => deps.insert(batch.map(toAuditRow));

  function failed(err: unknown, pending: number): void {
    failures++;
    retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, deps.intervalMs * 2 ** (failures - 1));
    log.error({ err, pending, failures }, "audit write failed; the events are kept and will be retried");
  }

  /** Writes full batches (or everything, with `all`) until the buffer is short or a write fails. */
  async function drain(all: boolean): Promise<void> {
    while (buffer.length >= (all ? 1 : batchSize)) {
      const size = Math.min(headSize, buffer.length);
      try {
        await insert(buffer.slice(0, size));
      } catch (err) {
        if (size === 1 && buffer.length > 1 && (await isPoison(err))) continue;
        if (size > 1) headSize = Math.ceil(size / 2);
        failed(err, buffer.length);
        throw err;
      }
      buffer.splice(0, size);
      headSize = batchSize;
      headStrikes = 0;
      failures = 0;
      retryAt = 0;
    }
  }

  /**
   * The head event failed alone. If the events behind it can be written, the database is fine and
   * the head is what it refuses: after a few such rounds it is logged in full and dropped.
   */
  async function isPoison(err: unknown): Promise<boolean> {
    const rest = buffer.slice(1, 1 + batchSize);
    try {
      await insert(rest);
    } catch {
      return false;
    }
    buffer.splice(1, rest.length);
    if (++headStrikes >= POISON_STRIKES) {
      log.error({ err, event: buffer[0] }, "audit event refused by the database; dropped after repeated attempts");
      buffer.splice(0, 1);
      headStrikes = 0;
      headSize = batchSize;
    }
    return true;
  }

  /** One drain at a time; a caller arriving mid-drain shares it. */
  function start(all: boolean): Promise<void> {
    running ??= drain(all).finally(() => {
      running = undefined;
    });
    return running;
  }

  /** Writes everything buffered when called, waiting out a drain already under way. */
  async function flushAll(): Promise<void> {
    while (running) await running.catch(() => undefined);
    await start(true);
  }

  function refuse(count: number): void {
    refused += count;
    if (Date.now() - refusedLoggedAt < 10_000) return;
    refusedLoggedAt = Date.now();
    log.error({ refused, pending: buffer.length }, "audit buffer full (database unwritable for long): events refused");
  }

  return {
    record(events) {
      if (events.length === 0) return;
      if (buffer.length + events.length > HARD_CAP) return refuse(events.length);
      for (const e of events) buffer.push(e);
      if (closed) void flushAll().catch(() => undefined);
      else if (buffer.length >= batchSize && Date.now() >= retryAt) void start(false).catch(() => undefined);
    },

    flush: flushAll,

    async close() {
      closed = true;
      clearInterval(timer);
      for (const delay of [...(deps.closeRetryDelaysMs ?? [250, 1_000, 3_000]), undefined]) {
        try {
          await flushAll();
          return;
        } catch {
          if (delay !== undefined) await new Promise((r) => setTimeout(r, delay));
        }
      }
      const lost = buffer;
      buffer = [];
      for (let i = 0; i < lost.length; i += batchSize) {
        log.error({ events: lost.slice(i, i + batchSize), total: lost.length }, "audit events could not be written before shutdown");
      }
    },
  };
}
