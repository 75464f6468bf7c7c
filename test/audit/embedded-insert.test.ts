import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditInserter } from "../../src/audit/insert.js";
import { toAuditRow } from "../../src/audit/rows.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { secretEvents } from "./support.js";
import { AUDIT_EVENTS_WITH_LISTS } from "../support/audit-sql.js";

/** The embedded database (PGlite): one session, shared with Prisma's interactive transactions. */
describe("audit inserts on the embedded database", () => {
  let dir: string;
  let db: Database;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lh-audit-embedded-"));
    db = await openDatabase({ DATABASE_URL: undefined, LEASEHOLD_DATA_DIR: dir });
    await db.migrate();
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async () => Number((await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM audit_events`))[0]!.n);

  it("writes a batch with every column, metadata included", async () => {
    const events = secretEvents(120);
    events[7] = { ...events[7]!, metadata: { type: "secret" } };
    await auditInserter(db)(events.map(toAuditRow));
    expect(await count()).toBe(120);
    const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(
      `SELECT service_account_id, token_id, key_digest, version, metadata FROM audit_events WHERE metadata IS NOT NULL`,
    );
    expect(rows).toEqual([
      { service_account_id: events[7]!.principal!.id, token_id: events[7]!.principal!.tokenId, key_digest: "digest-7", version: 1, metadata: { type: "secret" } },
    ]);
  });

  it("writes an event's list of secrets as parallel arrays", async () => {
    const [e] = secretEvents(1, { eventType: "listed.read" });
    const secrets = [
      { id: randomUUID(), keyDigest: "d1", version: 3, path: '/x "y", {z}' },
      { id: randomUUID(), keyDigest: "d2", version: 1, path: "/" },
    ];
    await auditInserter(db)([toAuditRow({ ...e!, secrets })]);
    const rows = await db.query(`SELECT secret_ids, key_digests, versions, paths FROM ${AUDIT_EVENTS_WITH_LISTS} WHERE event_type = 'listed.read'`);
    expect(rows).toEqual([
      { secret_ids: secrets.map((s) => s.id), key_digests: ["d1", "d2"], versions: [3, 1], paths: ['/x "y", {z}', "/"] },
    ]);
  });

  it("an insert issued while a transaction is open is not swept into it: the rollback keeps the audit rows", async () => {
    const before = await count();
    let pending: Promise<void> | undefined;
    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO audit_events (occurred_at, event_type) VALUES (now(), 'inside.tx')`);
        pending = auditInserter(db)(secretEvents(3, { eventType: "outside.tx" }).map(toAuditRow));
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    await pending;
    expect(await count()).toBe(before + 3);
    const types = await db.prisma.$queryRawUnsafe<{ event_type: string }[]>(`SELECT DISTINCT event_type FROM audit_events WHERE event_type LIKE '%.tx'`);
    expect(types).toEqual([{ event_type: "outside.tx" }]);
  });
});
