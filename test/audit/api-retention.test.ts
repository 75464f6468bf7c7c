import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditEventInput } from "../../src/audit/events.js";
import { ManualClock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { readAll, readLog, types, type WireEvent } from "./api-helpers.js";
import { eventually } from "./support.js";

const DAY = 86_400_000;
const NOW = new Date("2026-06-30T12:00:00.000Z");
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

/** AUDIT_RETENTION_DAYS: old events deleted in bounded batches by a job on the injected clock. */
describe("audit retention", () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (env: Record<string, string>) => {
    t = await startTestServer({ clock: new ManualClock(NOW), env: { LEASEHOLD_REAPER_SCHEDULE: "off", AUDIT_RETENTION_SCHEDULE: "off", ...env } });
    return t;
  };

  /** `count` events of `type` at `at`, through the server's own writer. */
  const record = async (s: TestServer, type: string, at: Date, count: number) => {
    const events: AuditEventInput[] = Array.from({ length: count }, (_, i) => ({ eventType: type, occurredAt: new Date(at.getTime() + i), metadata: { i } }));
    s.server.container.audit.record(events);
    await s.server.container.audit.flush();
  };

  /** A lease row in `status` with one event at each of `times`. */
  const leaseWithEvents = async (s: TestServer, status: string, times: Date[]) => {
    const id = randomUUID();
    await s.db.query(
      `INSERT INTO leases (id, environment_id, provider, name, status, ttl_seconds, created_at, expires_at, upstream_identity, state_cipher, updated_at)
       VALUES ($1, $2, 'postgresql', 'reader', $3::"LeaseStatus", 60, $4, $4, 'role_x', '\\x00', $4)`,
      [id, randomUUID(), status, times[0]],
    );
    for (const at of times) {
      await s.db.query(`INSERT INTO lease_events (lease_id, event_type, metadata, created_at) VALUES ($1, 'created', '{}', $2)`, [id, at]);
    }
    return id;
  };

  /** Rows each DELETE on audit_events removed, in order (a statement-level trigger counts them). */
  const countDeletes = async (s: TestServer) => {
    await s.db.query(`
      CREATE TABLE audit_delete_statements (n serial, rows int NOT NULL);
      CREATE FUNCTION count_audit_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO audit_delete_statements (rows) SELECT count(*) FROM old_rows; RETURN NULL; END $$;
      CREATE TRIGGER count_audit_delete AFTER DELETE ON audit_events
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_audit_delete();`);
    return async () => (await s.db.query<{ rows: number }>(`SELECT rows FROM audit_delete_statements ORDER BY n`)).map((r) => r.rows);
  };

  it("deletes events older than the retention, oldest first, in batches of AUDIT_RETENTION_BATCH_SIZE, and records what it deleted", async () => {
    const s = await start({ AUDIT_RETENTION_DAYS: "30", AUDIT_RETENTION_BATCH_SIZE: "7" });
    await record(s, "secret.read", ago(400), 10);
    await record(s, "token.create", ago(31), 15);
    await record(s, "secret.read", ago(30), 3); // exactly at the limit: kept
    await record(s, "secret.read", ago(1), 5);
    const finished = await leaseWithEvents(s, "EXPIRED", [ago(90), ago(40), ago(2)]);
    const live = await leaseWithEvents(s, "ACTIVE", [ago(90), ago(2)]);
    const deletes = await countDeletes(s);

    const result = await s.server.container.auditRetention.runOnce();
    expect(result).toEqual({ auditEvents: 25, leaseEvents: 2, before: ago(30) });
    expect(await deletes()).toEqual([7, 7, 7, 4]);

    const { events } = await readAll(s, { limit: 4, order: "asc" });
    expect(types(events)).toEqual([
      "lease.created", // the live lease's: kept whatever its age
      ...Array(3).fill("secret.read"),
      "lease.created", "lease.created",
      ...Array(5).fill("secret.read"),
      "owner.bootstrap",
      "audit.prune",
    ]);
    expect(events.filter((e) => e.type === "lease.created").map((e) => e.lease_id)).toEqual([live, finished, live]);
    expect(events.at(-1)).toMatchObject({
      type: "audit.prune",
      timestamp: NOW.toISOString(),
      actor: { type: "system", id: null, token_id: null },
      metadata: { before: ago(30).toISOString(), audit_events: 25, lease_events: 2, retention_days: 30 },
    });

    // Nothing more to delete: no statement beyond the empty probe, no second prune event.
    expect(await s.server.container.auditRetention.runOnce()).toEqual({ auditEvents: 0, leaseEvents: 0, before: ago(30) });
    expect(types((await readLog(s, { event_type: "audit.prune" })).body.events)).toEqual(["audit.prune"]);

    // The job reads the injected clock: a day later, the events at the old limit have aged out.
    s.clock.advance(DAY);
    expect(await s.server.container.auditRetention.runOnce()).toEqual({ auditEvents: 3, leaseEvents: 0, before: ago(29) });
    expect(types((await readLog(s, { event_type: "secret.read" })).body.events)).toEqual(Array(5).fill("secret.read"));
  });

  it("read sets go with the last kept read naming them; the reads kept still list their secrets", async () => {
    const s = await start({ AUDIT_RETENTION_DAYS: "30" });
    const list = (tag: string) => [0, 1].map((i) => ({ id: randomUUID(), keyDigest: `${tag}${i}`, version: 1, path: `/${tag}` }));
    const [oldOnly, oldAndNew, edge] = [list("a"), list("b"), list("c")];
    const read = async (secrets: ReturnType<typeof list>, at: Date) => {
      s.server.container.audit.record([{ eventType: "secret.read", occurredAt: at, secrets }]);
      await s.server.container.audit.flush();
    };
    await read(oldOnly, ago(400));
    await read(oldOnly, ago(31));
    await read(oldAndNew, ago(100));
    await read(oldAndNew, ago(1)); // later batch: the set's last_event_at moves to ago(1)
    await read(edge, new Date(ago(30).getTime() - 30 * 60_000)); // old, but within the hour's slack: its set stays
    const digests = async () =>
      (await s.db.query<{ d: string }>(`SELECT key_digests[1] AS d FROM audit_read_sets ORDER BY 1`)).map((r) => r.d);
    expect(await digests()).toEqual(["a0", "b0", "c0"]);

    expect(await s.server.container.auditRetention.runOnce()).toMatchObject({ auditEvents: 4 });
    expect(await digests()).toEqual(["b0", "c0"]);
    const reads: WireEvent[] = (await readLog(s, { event_type: "secret.read" })).body.events;
    expect(reads.map((e) => e.secrets)).toEqual([oldAndNew.map((x) => ({ id: x.id, key_digest: x.keyDigest, version: 1, path: x.path }))]);
    // The set left for its slack goes on a later pass, once the hour is over.
    s.clock.advance(3_600_000);
    await s.server.container.auditRetention.runOnce();
    expect(await digests()).toEqual(["b0"]);
  });

  it("AUDIT_RETENTION_DAYS unset (or 0) keeps everything", async () => {
    const s = await start({});
    expect(s.config.AUDIT_RETENTION_DAYS).toBe(0);
    await record(s, "secret.read", ago(10_000), 4);
    await leaseWithEvents(s, "REVOKED", [ago(10_000)]);
    expect(await s.server.container.auditRetention.runOnce()).toEqual({ auditEvents: 0, leaseEvents: 0, before: null });
    expect((await readLog(s, {})).body.events).toHaveLength(4 + 1 + 1);
  });

  it("the server runs the job on its schedule after listen", async () => {
    const s = await start({ AUDIT_RETENTION_DAYS: "1", AUDIT_RETENTION_SCHEDULE: "* * * * * *" });
    await record(s, "secret.read", ago(2), 3);
    await eventually(async () => (await s.db.query(`SELECT 1 FROM audit_events WHERE event_type = 'secret.read'`)).length === 0);
    await eventually(async () => types((await readLog(s, { event_type: "audit.prune" })).body.events).length === 1);
  });

  it("configuration: whole days from 0, a cron schedule or off, a positive batch size", () => {
    const base = { DATABASE_URL: "postgresql://x/y", LEASEHOLD_MASTER_KEY: Buffer.alloc(32).toString("base64") };
    const c = loadConfig(base);
    expect({ days: c.AUDIT_RETENTION_DAYS, schedule: c.AUDIT_RETENTION_SCHEDULE, batch: c.AUDIT_RETENTION_BATCH_SIZE }).toEqual({ days: 0, schedule: "0 17 * * * *", batch: 5000 });
    expect(loadConfig({ ...base, AUDIT_RETENTION_DAYS: "365", AUDIT_RETENTION_SCHEDULE: "off" }).AUDIT_RETENTION_DAYS).toBe(365);
    for (const bad of [{ AUDIT_RETENTION_DAYS: "-1" }, { AUDIT_RETENTION_DAYS: "1.5" }, { AUDIT_RETENTION_DAYS: "forever" }, { AUDIT_RETENTION_SCHEDULE: "hourly" }, { AUDIT_RETENTION_BATCH_SIZE: "0" }]) {
      expect(() => loadConfig({ ...base, ...bad }), JSON.stringify(bad)).toThrow(Object.keys(bad)[0]);
    }
  });
});
