/** Shared pieces of the lease benchmarks (bench/leases-*.ts). Not a benchmark itself. */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { Principal } from "../src/auth/principal.js";
import { loadConfig } from "../src/config.js";
import type { Container } from "../src/container.js";
import { createLogger } from "../src/logger.js";
import { prepare } from "../src/server.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ADMIN_URL = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface BenchDb {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createBenchDb(): Promise<BenchDb> {
  const name = `lh_bench_${randomBytes(5).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return { name, url: u.toString(), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined) };
}

export async function dropRoles(prefix: string): Promise<void> {
  await admin(async (c) => {
    const { rows } = await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", [`${prefix}_`]);
    for (const r of rows) await c.query(`DROP ROLE IF EXISTS "${r.rolname}"`).catch(() => undefined);
  });
}

export interface BenchServer {
  container: Container;
  owner: Principal;
  /** The app holding the definition (environment Production). */
  appId: string;
  secretId: string;
  prefix: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A Leasehold container in this process (prepare(), exactly what `serve` runs, without HTTP and
 * without starting the reaper), an app, and a PostgreSQL definition that targets the bench database.
 */
export async function openBenchServer(db: BenchDb, opts: { revocation?: "default" | "drop" } = {}): Promise<BenchServer> {
  const env = {
    DATABASE_URL: db.url,
    LEASEHOLD_MASTER_KEY: randomBytes(32).toString("base64"),
    LEASEHOLD_BOOTSTRAP_TOKEN: randomBytes(32).toString("hex"),
    LOG_LEVEL: process.env["LOG_LEVEL"] ?? "error",
  };
  const config = loadConfig(env);
  const { container, db: database } = await prepare(config, createLogger(config.LOG_LEVEL));
  const owner = await container.authenticator.authenticate({ type: undefined, token: env.LEASEHOLD_BOOTSTRAP_TOKEN });
  const app = await container.appService.createApp("bench", ["Production"]);
  const prefix = `b${randomBytes(4).toString("hex")}`;
  const target = new pg.Client({ connectionString: db.url });
  await target.connect();
  // Privileges through a group role (membership rows), not a GRANT per lease: per-role GRANTs on
  // one table collide ("tuple concurrently updated") and its ACL row overflows after ~700 roles.
  await target.query(`CREATE TABLE reports (id int primary key, body text); CREATE ROLE "${prefix}_readers" NOLOGIN; GRANT SELECT ON reports TO "${prefix}_readers"`);
  await target.end();
  const def = await container.dynamicSecrets.create(owner, {
    environmentId: app.environments[0]!.id,
    name: "reader",
    provider: "postgresql",
    config: {
      connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${db.name}`,
      username: "postgres",
      password: "bench-root-password",
      creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE "${prefix}_readers"`],
      username_prefix: prefix,
      // "drop": the role holds nothing but its group membership, so dropping it is enough (and
      // touches no shared catalog row). "default": the provider's generic revoke-everything path.
      ...(opts.revocation === "drop"
        ? { revocation_statements: [`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}'`, `DROP ROLE IF EXISTS "{{name}}"`] }
        : {}),
    },
    defaultTtl: 3600,
    maxTtl: 86_400,
  });
  return {
    container,
    owner,
    appId: app.id,
    secretId: def.id,
    prefix,
    env,
    async close() {
      await container.providers.closeAll();
      await container.audit.close();
      await database.close();
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface LatencyFigures {
  n: number;
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  perSecond: number;
  /** Calls that threw (latency still counted). */
  errors: number;
}

/** Runs `n` calls of `fn` with `concurrency` in flight; latency per call, throughput overall. */
export async function measureCalls(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<LatencyFigures> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = performance.now();
        await fn(i).catch(() => errors++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n, concurrency, p50Ms: r(percentile(latencies, 50)), p99Ms: r(percentile(latencies, 99)), maxMs: r(latencies.at(-1)!), perSecond: r(n / seconds), errors };
}

/** Resident set size of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

export function machine() {
  return { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version };
}

export function writeResult(name: string, data: unknown): string {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
