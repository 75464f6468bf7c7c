import { randomBytes } from "node:crypto";
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

describe("leasehold serve (CLI, as a subprocess)", () => {
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
