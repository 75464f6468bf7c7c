import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { hashToken } from "../../src/crypto/tokens.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startTestServer, testMasterKey, type TestServer } from "../support/server.js";
import { runCli, tokenLines } from "./cli.js";

// Each test starts the CLI (tsx) two or three times: slow when the whole suite shares two cores.
describe("leasehold bootstrap (CLI, as a subprocess)", { timeout: 90_000 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function freshDb(): Promise<TestDatabase> {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    return db;
  }

  /** A server on the same database and key, to prove a token authenticates over HTTP. */
  async function serverOn(db: TestDatabase, masterKey: string): Promise<TestServer> {
    const t = await startTestServer({ db, masterKey });
    cleanup.push(() => t.close());
    return t;
  }

  const owners = (db: TestDatabase) => db.query<{ id: string }>(`SELECT id FROM users WHERE role = 'OWNER'`);

  it("creates the first Owner and prints its token once; a second bootstrap is refused", async () => {
    const db = await freshDb();
    const env = { DATABASE_URL: db.url, LEASEHOLD_MASTER_KEY: testMasterKey() };

    const first = await runCli(["bootstrap"], env);
    expect(first.stderr).toBe("");
    expect(first.code, first.stderr).toBe(0);
    const lines = tokenLines(first.stdout);
    expect(lines).toHaveLength(1);
    const token = lines[0]!;

    // Stored only as its hash.
    expect(await owners(db)).toHaveLength(1);
    const rows = await db.query<{ token_hash: string; name: string; expires_at: Date | null }>(`SELECT token_hash, name, expires_at FROM api_tokens`);
    expect(rows).toEqual([{ token_hash: hashToken(token), name: "bootstrap", expires_at: null }]);

    const second = await runCli(["bootstrap"], env);
    expect(second.code).toBe(1);
    expect(tokenLines(second.stdout)).toEqual([]);
    expect(second.stdout).not.toMatch(/[0-9a-f]{64}/);
    expect(second.stderr).toBe("leasehold: an Owner already exists; bootstrap refused. Create further tokens through the API.\n");
    expect(await owners(db)).toHaveLength(1);
    expect(await db.query(`SELECT id FROM api_tokens`)).toHaveLength(1);

    const t = await serverOn(db, env.LEASEHOLD_MASTER_KEY);
    for (const header of [`Bearer ${token}`, `Bearer User ${token}`]) {
      const res = await t.http.get("/v1/users/").set("Authorization", header);
      expect(res.status).toBe(200);
      expect(res.body).toEqual([expect.objectContaining({ email: "owner@leasehold.local", role: "Owner" })]);
    }
  });

  it("uses LEASEHOLD_BOOTSTRAP_TOKEN as the Owner's token and does not echo it", async () => {
    const db = await freshDb();
    const token = randomBytes(32).toString("hex");
    const env = { DATABASE_URL: db.url, LEASEHOLD_MASTER_KEY: testMasterKey(), LEASEHOLD_BOOTSTRAP_TOKEN: token };

    const res = await runCli(["bootstrap"], env);
    expect(res.stderr).toBe("");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe("Created the first Owner with LEASEHOLD_BOOTSTRAP_TOKEN as its token.\n");
    expect(await db.query(`SELECT token_hash FROM api_tokens`)).toEqual([{ token_hash: hashToken(token) }]);

    const t = await serverOn(db, env.LEASEHOLD_MASTER_KEY);
    const ok = await t.http.get("/v1/apps/").set("Authorization", `Bearer User ${token}`);
    expect(ok.status).toBe(200);

    const again = await runCli(["bootstrap"], env);
    expect(again.code).toBe(1);
    expect(await owners(db)).toHaveLength(1);
  });

  it("rejects a malformed LEASEHOLD_BOOTSTRAP_TOKEN without touching the database", async () => {
    const db = await freshDb();
    const res = await runCli(["bootstrap"], { DATABASE_URL: db.url, LEASEHOLD_MASTER_KEY: testMasterKey(), LEASEHOLD_BOOTSTRAP_TOKEN: "abc" });
    expect(res.code).toBe(78);
    expect(res.stderr).toContain("LEASEHOLD_BOOTSTRAP_TOKEN: must be 64 lowercase hex characters");
    expect(res.stderr).not.toContain("abc");
    expect(await db.query(`SELECT tablename FROM pg_tables WHERE tablename = 'users'`)).toEqual([]);
  });

  it("two bootstraps started at once create exactly one Owner", async () => {
    const db = await freshDb();
    const env = { DATABASE_URL: db.url, LEASEHOLD_MASTER_KEY: testMasterKey() };
    const results = await Promise.all([runCli(["bootstrap"], env), runCli(["bootstrap"], env)]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    const winner = results.find((r) => r.code === 0)!;
    const loser = results.find((r) => r.code === 1)!;
    expect(tokenLines(winner.stdout)).toHaveLength(1);
    expect(tokenLines(loser.stdout)).toEqual([]);
    // Refused (it saw the winner's Owner), not crashed on a constraint.
    expect(loser.stderr).toBe("leasehold: an Owner already exists; bootstrap refused. Create further tokens through the API.\n");
    expect(await owners(db)).toHaveLength(1);
    expect(await db.query(`SELECT token_hash FROM api_tokens`)).toEqual([{ token_hash: hashToken(tokenLines(winner.stdout)[0]!) }]);
  });
});
