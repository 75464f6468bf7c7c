import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { testMasterKey } from "../support/server.js";
import { finished, spawnCli, tokenLines, type CliResult } from "./cli.js";

interface Served {
  url: string;
  /** stdout lines seen until the server said it listens. */
  lines: string[];
  /** SIGTERM, then the exit. */
  stop(): Promise<CliResult>;
}

/** Starts `leasehold serve` on PORT=0 and waits for its `leasehold is listening` log line. */
async function serve(env: Record<string, string>): Promise<Served> {
  const child = spawnCli(["serve"], { HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env });
  const lines: string[] = [];
  const done = finished(child);
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (line) => {
      lines.push(line);
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "leasehold is listening" && entry.url) resolve(entry.url);
    });
    void done.then((r) => reject(new Error(`serve exited early (${r.code}): ${r.stderr}`)));
  });
  return {
    url,
    lines,
    stop: () => {
      child.kill("SIGTERM");
      return done;
    },
  };
}

// Each test starts `leasehold serve` (tsx) once or twice: slow when the whole suite shares two cores.
describe("leasehold serve (CLI, as a subprocess)", { timeout: 90_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function freshDb(): Promise<TestDatabase> {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    return db;
  }

  it("prints the first Owner's token when no bootstrap token is set, and exits 0 on SIGTERM", async () => {
    const db = await freshDb();
    const env = { DATABASE_URL: db.url, LEASEHOLD_MASTER_KEY: testMasterKey() };
    const first = await serve(env);
    let stopped = false;
    cleanup.push(async () => (stopped ? undefined : first.stop()));

    const tokens = tokenLines(first.lines.join("\n"));
    expect(tokens).toHaveLength(1);
    const ok = await fetch(`${first.url}/v1/users/`, { headers: { Authorization: `Bearer ${tokens[0]}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual([expect.objectContaining({ role: "Owner" })]);
    const anon = await fetch(`${first.url}/v1/users/`);
    expect(anon.status).toBe(401);

    const exit = await first.stop();
    stopped = true;
    expect(exit.signal).toBeNull();
    expect(exit.code, exit.stderr).toBe(0);
    // The token appears in the one message meant for it, never in a log line.
    for (const line of exit.stdout.split("\n").filter((l) => l.startsWith("{"))) expect(line).not.toContain(tokens[0]);

    // A restart finds the Owner and prints no token.
    const second = await serve(env);
    const exit2 = await second.stop();
    expect(exit2.code, exit2.stderr).toBe(0);
    expect(tokenLines(exit2.stdout)).toEqual([]);
    expect(await db.query(`SELECT id FROM users WHERE role = 'OWNER'`)).toHaveLength(1);
  });

  it("a shutdown held by a request that never completes ends at SHUTDOWN_TIMEOUT_MS: audit written, exit 1", async () => {
    const db = await freshDb();
    const token = randomBytes(32).toString("hex");
    const s = await serve({
      DATABASE_URL: db.url, LEASEHOLD_MASTER_KEY: testMasterKey(), LEASEHOLD_BOOTSTRAP_TOKEN: token,
      SHUTDOWN_TIMEOUT_MS: "1500", AUDIT_FLUSH_INTERVAL_MS: "600000", // nothing is written before shutdown
    });
    const created = await fetch(`${s.url}/v1/apps/`, {
      method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ name: "last-words" }),
    });
    expect(created.status).toBe(201);
    // A request whose body never arrives in full keeps its connection busy, so the close waits for it.
    const { port } = new URL(s.url);
    const stuck = connect(Number(port), "127.0.0.1");
    stuck.on("error", () => undefined);
    await new Promise((r) => stuck.once("connect", r));
    stuck.write(`POST /v1/apps/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na`);
    await new Promise((r) => setTimeout(r, 200)); // the server has the request (no clock to inject: this is a separate process)
    const started = Date.now();
    const exit = await s.stop();
    stuck.destroy();
    expect(exit.code, exit.stderr).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(exit.stdout).toContain("graceful shutdown did not finish in time; exiting");
    expect(await db.query(`SELECT event_type FROM audit_events WHERE event_type = 'app.create'`)).toEqual([{ event_type: "app.create" }]);
  });

  it("prints no token when LEASEHOLD_BOOTSTRAP_TOKEN is set, and that token works", async () => {
    const db = await freshDb();
    const token = randomBytes(32).toString("hex");
    const s = await serve({ DATABASE_URL: db.url, LEASEHOLD_MASTER_KEY: testMasterKey(), LEASEHOLD_BOOTSTRAP_TOKEN: token });
    try {
      const res = await fetch(`${s.url}/v1/apps/`, { headers: { Authorization: `Bearer User ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      const exit = await s.stop();
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).not.toContain(token);
      expect(tokenLines(exit.stdout)).toEqual([]);
    }
  });
});
