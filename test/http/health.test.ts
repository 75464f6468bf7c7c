import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { MasterKey } from "../../src/crypto/envelope.js";
import { openDatabase } from "../../src/db/database.js";
import { createReadinessCheck } from "../../src/http/health.js";
import { ADMIN_URL } from "../support/database.js";
import { startTestServer, type TestServer } from "../support/server.js";

const READY = { status: "ready", checks: { database: "ok", migrations: "ok", master_key: "ok" } };

async function admin(sql: string, params: unknown[] = []): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}

describe("/healthz and /readyz", () => {
  let t: TestServer;
  beforeAll(async () => {
    // A rate limit of 1 a minute: probes must never count against anything.
    t = await startTestServer({ env: { RATE_LIMIT_DEFAULT: "1/minute", LEASEHOLD_REAPER_SCHEDULE: "off" } });
  });
  afterAll(async () => t?.close());

  const parsedLogs = () => t.logs().map((l) => JSON.parse(l) as { level: number; msg: string; req?: { url: string }; failedChecks?: string[]; cause?: string });

  it("answer 200 without credentials, never rate-limited, never logged below warn", async () => {
    for (let i = 0; i < 4; i++) {
      const alive = await t.http.get("/healthz");
      expect(alive.status).toBe(200);
      expect(alive.body).toEqual({ status: "ok" });
      expect(alive.headers["strict-transport-security"]).toBeUndefined(); // HSTS over HTTPS only
      const ready = await t.http.get("/readyz");
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual(READY);
    }
    expect((await t.http.head("/healthz")).status).toBe(200);
    expect(parsedLogs().filter((l) => l.req?.url === "/healthz" || l.req?.url === "/readyz")).toEqual([]);
    // Other requests are still logged (at trace here).
    await t.http.get("/");
    expect(parsedLogs().some((l) => l.msg === "incoming request" && l.req?.url === "/")).toBe(true);
  });

  it("readyz goes 503 while the database refuses connections (healthz stays 200), and back", async () => {
    const name = t.db.name;
    await admin(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    try {
      await admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name]);
      const down = await t.http.get("/readyz");
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        error: "Not ready: database check failed.",
        status: "unavailable",
        checks: { database: "failed", migrations: "unknown", master_key: "unknown" },
      });
      expect(down.text).not.toMatch(/SELECT|connection|accepting|lh_test/i); // no database error text reaches the client
      expect((await t.http.get("/healthz")).body).toEqual({ status: "ok" }); // alive: no database access
    } finally {
      await admin(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    }
    const up = await t.http.get("/readyz");
    expect(up.status).toBe(200);
    expect(up.body).toEqual(READY);
    // One warning when it went down (with the cause, for operators), one line when it came back.
    const transitions = parsedLogs().filter((l) => l.msg === "not ready" || l.msg === "ready again");
    expect(transitions.map((l) => [l.msg, l.level])).toEqual([["not ready", 40], ["ready again", 30]]);
    expect(transitions[0]!.failedChecks).toEqual(["database"]);
    expect(transitions[0]!.cause).toMatch(/not currently accepting connections|terminat/);
  });

  it("readyz is 503 while a migration of this build is not applied (rolled back)", async () => {
    const [last] = await t.db.query<{ name: string }>("SELECT max(migration_name) AS name FROM _prisma_migrations");
    await t.db.query("UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1", [last!.name]);
    try {
      const res = await t.http.get("/readyz");
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        error: "Not ready: migrations check failed.",
        status: "unavailable",
        checks: { database: "ok", migrations: "failed", master_key: "ok" },
      });
      expect(res.text).not.toContain(last!.name);
    } finally {
      await t.db.query("UPDATE _prisma_migrations SET rolled_back_at = NULL WHERE migration_name = $1", [last!.name]);
    }
    expect((await t.http.get("/readyz")).body).toEqual(READY);
  });

  it("readyz is 503 when the database is sealed under another master key (rotated elsewhere)", async () => {
    const [original] = await t.db.query<{ canary: Buffer }>("SELECT canary FROM master_key_check WHERE id = 1");
    await t.db.query("UPDATE master_key_check SET canary = $1 WHERE id = 1", [Buffer.from(new MasterKey(MasterKey.generate()).makeCanary())]);
    try {
      const res = await t.http.get("/readyz");
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        error: "Not ready: master_key check failed.",
        status: "unavailable",
        checks: { database: "ok", migrations: "ok", master_key: "failed" },
      });
    } finally {
      await t.db.query("UPDATE master_key_check SET canary = $1 WHERE id = 1", [original!.canary]);
    }
    expect((await t.http.get("/readyz")).body).toEqual(READY);
  });

  it("the readiness check fails on a pool pointed at a closed port, naming the cause for the log only", async () => {
    const db = await openDatabase(loadConfig({ DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none", LEASEHOLD_MASTER_KEY: Buffer.alloc(32, 7).toString("base64") }));
    try {
      const check = createReadinessCheck({ db, masterKey: new MasterKey(MasterKey.generate()) }, ["20240101000000_init"]);
      const r = await check();
      expect(r).toMatchObject({ ready: false, checks: { database: "failed", migrations: "unknown", master_key: "unknown" } });
      expect(r.cause).toMatch(/ECONNREFUSED/);
    } finally {
      await db.close();
    }
  });
});
