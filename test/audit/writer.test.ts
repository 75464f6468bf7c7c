import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AuditSink } from "../../src/audit/events.js";
import { auditInserter } from "../../src/audit/insert.js";
import { createAuditWriter, type AuditWriterDeps } from "../../src/audit/writer.js";
import { captureLogger, eventually, openAuditDb, secretEvents, type AuditDb } from "./support.js";
import { AUDIT_EVENTS_WITH_LISTS } from "../support/audit-sql.js";

const HOUR = 3_600_000;

describe("audit writer against PostgreSQL", () => {
  let a: AuditDb;
  let writers: AuditSink[] = [];
  let logs: string[];

  beforeAll(async () => {
    a = await openAuditDb();
  });
  afterAll(async () => a?.close());
  beforeEach(async () => {
    await a.reset();
  });
  afterEach(async () => {
    await a.test.query(`ALTER TABLE IF EXISTS audit_events_away RENAME TO audit_events`);
    for (const w of writers) await w.close();
    writers = [];
  });

  function writer(over: Partial<AuditWriterDeps> = {}): AuditSink {
    const cap = captureLogger();
    logs = cap.lines;
    const w = createAuditWriter({ insert: auditInserter(a.db), log: cap.log, intervalMs: HOUR, batchSize: 100, closeRetryDelaysMs: [10, 10], ...over });
    writers.push(w);
    return w;
  }
  const unwritable = () => a.test.query(`ALTER TABLE audit_events RENAME TO audit_events_away`);
  const writable = () => a.test.query(`ALTER TABLE audit_events_away RENAME TO audit_events`);

  it("record() returns synchronously and never waits for the database", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let calls = 0;
    const real = auditInserter(a.db);
    const w = writer({
      // The database "hangs" until the test opens the gate; then the real statement runs.
      insert: async (rows) => {
        calls++;
        await gate;
        await real(rows);
      },
    });
    for (let i = 0; i < 5; i++) expect(w.record(secretEvents(50))).toBeUndefined();
    expect(calls).toBe(1); // the first full batch is being written; record() went on regardless
    expect(await a.rowCount()).toBe(0);
    open();
    await w.flush();
    expect(await a.rowCount()).toBe(250);
    expect(await a.insertStatements()).toBe(3);
  });

  it("writes N events in ceil(N/batchSize) INSERTs, every field stored", async () => {
    const w = writer();
    const events = secretEvents(1_234);
    for (const e of events) w.record([e]);
    await w.flush();
    expect(await a.insertStatements()).toBe(13);
    expect(await a.rowCount()).toBe(1_234);
    expect(await a.test.query(`SELECT max(rows)::int AS biggest FROM audit_insert_statements`)).toEqual([{ biggest: 100 }]);
    const e = events[321]!;
    const [row] = await a.test.query(`SELECT * FROM audit_events WHERE key_digest = 'digest-321'`);
    expect(row).toMatchObject({
      occurred_at: e.occurredAt,
      event_type: "secret.read",
      account_type: "service_account",
      user_id: null,
      service_account_id: e.principal!.id,
      token_id: e.principal!.tokenId,
      ip_address: "10.0.0.7",
      user_agent: "phase-cli/1.0",
      app_id: e.appId,
      environment_id: e.environmentId,
      secret_id: e.secretId,
      path: "/",
      version: 1,
      metadata: null,
    });
  });

  it("2,000 events recorded by 40 reads of 50 secrets cost the request path only the append: ceil(2000/500) INSERTs", async () => {
    const w = writer({ batchSize: 500 });
    for (let req = 0; req < 40; req++) expect(w.record(secretEvents(50))).toBeUndefined();
    await w.flush();
    expect(await a.rowCount()).toBe(2_000);
    expect(await a.insertStatements()).toBeLessThanOrEqual(4 + 1);
  });

  it("the timer writes a partial batch without anyone flushing", async () => {
    const w = writer({ intervalMs: 20 });
    w.record(secretEvents(3));
    await eventually(async () => (await a.rowCount()) === 3);
    expect(await a.insertStatements()).toBe(1);
  });

  it("close() writes what is buffered; events recorded after close are written straight away", async () => {
    const w = writer();
    w.record(secretEvents(7));
    expect(await a.rowCount()).toBe(0);
    await w.close();
    expect(await a.rowCount()).toBe(7);
    w.record(secretEvents(2, { eventType: "secret.delete" }));
    await eventually(async () => (await a.rowCount("secret.delete")) === 2);
  });

  it("a failed batch is kept and retried: every event lands exactly once", async () => {
    const w = writer();
    await unwritable();
    const events = secretEvents(10);
    w.record(events);
    await expect(w.flush()).rejects.toThrow();
    expect(logs.some((l) => l.includes("audit write failed") && l.includes('"pending":10'))).toBe(true);
    expect(await a.test.query(`SELECT count(*)::int AS n FROM audit_events_away`)).toEqual([{ n: 0 }]);
    await writable();
    await w.flush();
    const rows = await a.test.query<{ key_digest: string }>(`SELECT key_digest FROM audit_events ORDER BY key_digest`);
    expect(rows.map((r) => r.key_digest)).toEqual(events.map((e) => e.keyDigest).sort());
  });

  it("the timer keeps retrying on its own until the database takes the writes", async () => {
    const w = writer({ intervalMs: 20 });
    await unwritable();
    w.record(secretEvents(4));
    await eventually(() => logs.filter((l) => l.includes("audit write failed")).length >= 2);
    await writable();
    await eventually(async () => (await a.rowCount()) === 4);
  });

  it("close() with the database unwritable retries, then logs every unwritten event in full and resolves", async () => {
    const w = writer();
    await unwritable();
    const events = secretEvents(3);
    w.record(events);
    await w.close();
    const lost = logs.filter((l) => l.includes("audit events could not be written before shutdown"));
    expect(lost).toHaveLength(1);
    const logged = JSON.parse(lost[0]!) as { level: number; total: number; events: { secretId: string }[] };
    expect(logged.level).toBe(50);
    expect(logged.total).toBe(3);
    expect(logged.events.map((e) => e.secretId)).toEqual(events.map((e) => e.secretId));
    expect(logs.filter((l) => l.includes("audit write failed")).length).toBe(3); // the first try and two retries
  });

  it("one event the database refuses is isolated, logged in full and dropped; the others are written", async () => {
    const w = writer({ batchSize: 8 });
    const events = secretEvents(20);
    // An event the database refuses, whatever the writer cleans: a constraint made for this test.
    await a.test.query(`ALTER TABLE audit_events ADD CONSTRAINT poison_for_test CHECK (key_digest IS DISTINCT FROM 'digest-5') NOT VALID`);
    w.record(events);
    // Traffic goes on while the writer narrows the failing batch down: the events behind the
    // refused one are what prove the database itself is writable.
    let later = 0;
    for (let i = 0; i < 30; i++) {
      try {
        await w.flush();
        break;
      } catch {
        w.record(secretEvents(1, { eventType: "secret.update" }));
        later++;
      }
    }
    expect(later).toBeGreaterThan(0);
    expect(await a.rowCount("secret.read")).toBe(19);
    expect(await a.rowCount("secret.update")).toBe(later);
    expect(await a.test.query(`SELECT 1 FROM audit_events WHERE key_digest = 'digest-5'`)).toEqual([]);
    const dropped = logs.filter((l) => l.includes("audit event refused by the database"));
    expect(dropped).toHaveLength(1);
    expect(JSON.parse(dropped[0]!).event.keyDigest).toBe("digest-5");
    await a.test.query("ALTER TABLE audit_events DROP CONSTRAINT poison_for_test");
  });

  it("a malformed id cannot block a batch: stored as NULL and kept under metadata.invalid", async () => {
    const w = writer();
    const [e] = secretEvents(1, { secretId: "not-a-uuid", version: 2 ** 40, metadata: { type: "secret" } });
    w.record([e!, ...secretEvents(2)]);
    await w.flush();
    expect(await a.rowCount()).toBe(3);
    const [row] = await a.test.query(`SELECT secret_id, version, metadata FROM audit_events WHERE key_digest = 'digest-0' AND metadata IS NOT NULL`);
    expect(row).toEqual({
      secret_id: null,
      version: null,
      metadata: { type: "secret", invalid: { secretId: "not-a-uuid", version: String(2 ** 40) } },
    });
  });

  it("an event listing secrets stores them as parallel arrays, in order, whatever characters the paths hold", async () => {
    const w = writer();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const paths = ["/", '/a "quoted", {braced} \\ path', "/NULL"];
    const [read] = secretEvents(1, { secretId: undefined, keyDigest: undefined, version: undefined, path: undefined });
    const listed = { ...read!, secrets: ids.map((id, i) => ({ id, keyDigest: `d${i},x`, version: i + 1, path: paths[i]! })) };
    w.record([listed, ...secretEvents(2)]);
    await w.flush();
    expect(await a.insertStatements()).toBe(1);
    const rows = await a.test.query(`SELECT secret_id, key_digest, version, path, secret_ids, key_digests, versions, paths FROM ${AUDIT_EVENTS_WITH_LISTS} ORDER BY id`);
    expect(rows[0]).toEqual({
      secret_id: null,
      key_digest: null,
      version: null,
      path: null,
      secret_ids: ids,
      key_digests: ["d0,x", "d1,x", "d2,x"],
      versions: [1, 2, 3],
      paths,
    });
    for (const r of rows.slice(1)) expect(r).toMatchObject({ secret_ids: null, key_digests: null, versions: null, paths: null });
  });

  it("reads returning the same secrets at the same versions share one read set, across batches; another version is another set", async () => {
    const w = writer();
    const ids = [randomUUID(), randomUUID()];
    const list = (v: number) => ids.map((id, i) => ({ id, keyDigest: `d${i}`, version: i === 1 ? v : 1, path: "/" }));
    const read = (v: number, at: number) => ({ ...secretEvents(1)[0]!, occurredAt: new Date(at), secrets: list(v) });
    const T = Date.parse("2026-06-01T00:00:00Z");
    w.record([read(1, T), read(1, T + 1_000), read(2, T + 2_000)]);
    await w.flush();
    w.record([read(1, T + 3_000)]); // within the hour: the set's last_event_at is left alone
    await w.flush();
    w.record([read(1, T + 2 * HOUR)]); // more than an hour later: moved forward
    await w.flush();

    const sets = await a.test.query<{ id: string; versions: number[]; last_event_at: Date }>(
      `SELECT encode(id, 'hex') AS id, versions, last_event_at FROM audit_read_sets ORDER BY versions`,
    );
    expect(sets.map((s) => [s.versions, s.last_event_at.toISOString()])).toEqual([
      [[1, 1], new Date(T + 2 * HOUR).toISOString()],
      [[1, 2], new Date(T + 2_000).toISOString()],
    ]);
    const events = await a.test.query<{ set: string }>(`SELECT encode(read_set_id, 'hex') AS set FROM audit_events ORDER BY occurred_at`);
    expect(events.map((e) => e.set)).toEqual([sets[0]!.id, sets[0]!.id, sets[1]!.id, sets[0]!.id, sets[0]!.id]);
    // The rows themselves carry no lists any more.
    expect(await a.test.query(`SELECT count(*)::int AS n FROM audit_events WHERE secret_ids IS NOT NULL OR paths IS NOT NULL`)).toEqual([{ n: 0 }]);
  });

  it("a malformed element of a list cannot block a batch: NULL in its array and kept under metadata.invalid", async () => {
    const w = writer();
    const id = randomUUID();
    const [e] = secretEvents(1, { keyDigest: "listed" });
    w.record([{ ...e!, secrets: [{ id: "nope", keyDigest: "a", version: 1, path: "/" }, { id, keyDigest: "b\u0000c", version: 2 ** 40, path: "/p" }] }]);
    await w.flush();
    const [row] = await a.test.query(`SELECT secret_ids, key_digests, versions, paths, metadata FROM ${AUDIT_EVENTS_WITH_LISTS} WHERE key_digest = 'listed'`);
    expect(row).toEqual({
      secret_ids: [null, id],
      key_digests: ["a", "bc"],
      versions: [1, null],
      paths: ["/", "/p"],
      metadata: { invalid: { "secretIds.0": "nope", "versions.1": String(2 ** 40) } },
    });
  });

  it("metadata the database would refuse (NUL, unpaired surrogates, in values and keys) is cleaned, not a poison event", async () => {
    const w = writer();
    const [e] = secretEvents(1, { keyDigest: "meta" });
    const when = new Date("2026-01-02T03:04:05.000Z");
    w.record([{ ...e!, metadata: { prefix: "lease_\u0000x", list: ["a\ud800", { "k\u0000ey": 1 }], when, n: 2, none: null } }]);
    await w.flush();
    const [row] = await a.test.query<{ metadata: unknown }>(`SELECT metadata FROM audit_events WHERE key_digest = 'meta'`);
    expect(row!.metadata).toEqual({ prefix: "lease_x", list: ["a\ufffd", { key: 1 }], when: when.toISOString(), n: 2, none: null });
    expect(logs.filter((l) => l.includes("audit event refused by the database"))).toEqual([]);
  });

  it("client text the database would refuse (NUL, unpaired surrogates) is cleaned, not a poison event", async () => {
    const w = writer();
    const ua = `agent\u0000/1 \ud800 ${"x".repeat(1_013)}\ud83d\ude00`;
    const [e] = secretEvents(1, { keyDigest: "ua", userAgent: ua, path: "/p\udfff" });
    w.record([e!]);
    await w.flush();
    const [row] = await a.test.query<{ user_agent: string; path: string }>(`SELECT user_agent, path FROM audit_events WHERE key_digest = 'ua'`);
    // NUL removed, the lone surrogate replaced, then cut to 1,024 characters (which splits the emoji: replaced too).
    expect(row!.user_agent).toBe(`agent/1 \ufffd ${"x".repeat(1_013)}\ufffd`);
    expect(row!.user_agent).toHaveLength(1_024);
    expect(row!.path).toBe("/p\ufffd");
  });
});
