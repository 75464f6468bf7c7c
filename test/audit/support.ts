import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type { AuditEventInput } from "../../src/audit/events.js";
import type { Principal } from "../../src/auth/principal.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { createLogger, type Logger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

export interface AuditDb {
  test: TestDatabase;
  db: Database;
  /** INSERT statements on audit_events since the last reset, counted by a statement-level trigger. */
  insertStatements(): Promise<number>;
  rowCount(eventType?: string): Promise<number>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A migrated test database whose audit_events table counts the INSERT statements it receives. */
export async function openAuditDb(): Promise<AuditDb> {
  const test = await createTestDatabase();
  const db = await openDatabase({ DATABASE_URL: test.url, LEASEHOLD_DATA_DIR: "unused" });
  await db.migrate();
  await test.query(`
    CREATE TABLE audit_insert_statements (rows int NOT NULL);
    CREATE FUNCTION count_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO audit_insert_statements SELECT count(*) FROM new_rows; RETURN NULL; END $$;
    CREATE TRIGGER count_audit_insert AFTER INSERT ON audit_events
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_audit_insert();`);
  return {
    test,
    db,
    insertStatements: async () => Number((await test.query(`SELECT count(*) AS n FROM audit_insert_statements`))[0]!["n"]),
    rowCount: async (eventType) =>
      Number(
        (await test.query(`SELECT count(*) AS n FROM audit_events WHERE $1::text IS NULL OR event_type = $1`, [eventType ?? null]))[0]!["n"],
      ),
    reset: async () => void (await test.query(`TRUNCATE audit_events, audit_read_sets, audit_insert_statements`)),
    async close() {
      await db.close();
      await test.drop();
    },
  };
}

export function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  return { log: createLogger("info", sink), lines };
}

export const saPrincipal = (): Principal => ({ kind: "service_account", id: randomUUID(), name: "ci", tokenId: randomUUID() });

export function secretEvents(count: number, over: Partial<AuditEventInput> = {}): AuditEventInput[] {
  const principal = saPrincipal();
  const environmentId = randomUUID();
  return Array.from({ length: count }, (_, i) => ({
    eventType: "secret.read",
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)),
    principal,
    ipAddress: "10.0.0.7",
    userAgent: "phase-cli/1.0",
    appId: randomUUID(),
    environmentId,
    secretId: randomUUID(),
    path: "/",
    keyDigest: `digest-${i}`,
    version: 1,
    ...over,
  }));
}

/** Waits for a condition the writer reaches on its own (its timer), checking every 10 ms. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
