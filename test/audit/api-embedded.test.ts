import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppRepository } from "../../src/apps/repository.js";
import { decodeCursor } from "../../src/audit/cursor.js";
import { auditInserter } from "../../src/audit/insert.js";
import { createAuditLogRepository } from "../../src/audit/log-repository.js";
import { createAuditLogService, type AuditLogRequest } from "../../src/audit/log-service.js";
import { toAuditRow } from "../../src/audit/rows.js";
import type { AuditEventInput } from "../../src/audit/events.js";
import { systemClock } from "../../src/clock.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { saPrincipal, secretEvents } from "./support.js";

/** The audit log query on the embedded database (PGlite): same order, filters and cursors as on PostgreSQL. */
describe("audit log reads on the embedded database", () => {
  let dir: string;
  let db: Database;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lh-audit-log-embedded-"));
    db = await openDatabase({ DATABASE_URL: undefined, LEASEHOLD_DATA_DIR: dir });
    await db.migrate();
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("pages through events with ties in time and microsecond timestamps, with filters", async () => {
    const principal = saPrincipal();
    // 30 reads, three per millisecond, plus a management event at a microsecond the JS Date cannot hold.
    const events = secretEvents(30, { principal }).map((e, i) => ({ ...e, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, Math.floor(i / 3))) }));
    await auditInserter(db)(events.map(toAuditRow));
    await db.query(`INSERT INTO audit_events (occurred_at, event_type) VALUES ('2026-01-01T00:00:00.004567Z', 'app.create')`);
    // Reads are recorded as audit.read events; kept in memory here so the pages under test stay as written.
    const recorded: AuditEventInput[] = [];
    const audit = { record: (e: AuditEventInput[]) => void recorded.push(...e), flush: async () => undefined, close: async () => undefined };
    const service = createAuditLogService({ log: createAuditLogRepository(db), apps: createAppRepository(db), audit, clock: systemClock });
    const caller = { principal, meta: { ipAddress: "127.0.0.1", userAgent: "test" } };
    const log = { list: (r: AuditLogRequest) => service.list(caller, r) };
    const walk = async (r: Omit<AuditLogRequest, "cursor">) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await log.list({ ...r, cursor: cursor ? decodeCursor(cursor)! : undefined });
        ids.push(...page.events.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };

    const all = await log.list({ limit: 1000, order: "desc" });
    expect(all.events).toHaveLength(31);
    expect(all.events.map((e) => e.type).indexOf("app.create")).toBe(30 - 15); // after the 15 reads of ms 5..9
    expect(await walk({ limit: 4, order: "desc" })).toEqual(all.events.map((e) => e.id));
    expect(await walk({ limit: 7, order: "asc" })).toEqual(all.events.map((e) => e.id).reverse());

    const reads = await walk({ limit: 5, order: "desc", account: principal.id, eventTypes: { exact: [], prefixes: ["secret."] } });
    expect(reads).toEqual(all.events.filter((e) => e.type === "secret.read").map((e) => e.id));
    const system = await log.list({ limit: 10, order: "desc", actorType: "system" });
    expect(system.events.map((e) => e.type)).toEqual(["app.create"]);
    expect(recorded.every((e) => e.eventType === "audit.read" && e.principal === principal)).toBe(true);
    expect(recorded.at(-1)?.metadata).toEqual({ filter: { actor_type: "system" }, order: "desc", page: "first", events: 1 });
  });
});
