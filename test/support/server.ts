import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import supertest from "supertest";
import { ManualClock } from "../../src/clock.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import type { Provider } from "../../src/providers/provider.js";
import { startServer, type RunningServer } from "../../src/server.js";
import { createTestDatabase, type TestDatabase } from "./database.js";

export interface TestServer {
  url: string;
  server: RunningServer;
  db: TestDatabase;
  clock: ManualClock;
  config: Config;
  /** The bootstrap Owner's raw token. */
  ownerToken: string;
  /** `supertest(url)`: real HTTP against the listening server. */
  http: ReturnType<typeof supertest>;
  /** Every log line the server wrote, as raw JSON text. */
  logs(): string[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: ManualClock;
  /** Reuse a database (restart tests); otherwise a fresh one is created and dropped on close. */
  db?: TestDatabase;
  masterKey?: string;
  /** Extra dynamic-secret providers (e.g. a wrapper around the real one that fails on demand). */
  providers?: Provider[];
}

export const testMasterKey = () => randomBytes(32).toString("base64");

/** Starts a real Leasehold server on a random loopback port over a fresh PostgreSQL database. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const db = opts.db ?? (await createTestDatabase());
  const ownerToken = randomBytes(32).toString("hex");
  const config = loadConfig({
    DATABASE_URL: db.url,
    LEASEHOLD_MASTER_KEY: opts.masterKey ?? testMasterKey(),
    LEASEHOLD_BOOTSTRAP_TOKEN: ownerToken,
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "trace",
    AUDIT_FLUSH_INTERVAL_MS: "20",
    ...opts.env,
  });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const clock = opts.clock ?? new ManualClock();
  const log = createLogger(config.LOG_LEVEL, sink);
  const server = await startServer(config, log, { clock, ...(opts.providers ? { providers: opts.providers } : {}) });
  let closed = false;
  return {
    url: server.url,
    server,
    db,
    clock,
    config,
    ownerToken: opts.env?.["LEASEHOLD_BOOTSTRAP_TOKEN"] ?? ownerToken,
    http: supertest(server.url),
    logs: () => lines,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      if (!opts.db) await db.drop();
    },
  };
}
