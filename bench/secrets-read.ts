/**
 * `npm run bench`: GET /v1/secrets/?app_id=&env= returning 50 secrets, 50 connections, against
 * (a) Leasehold as a separate process (LOG_LEVEL=warn, PostgreSQL, a service-account token) and
 * (b) a baseline Fastify + pg server reading the same rows with no auth, crypto or audit.
 * Prints req/s, p50, p99 and the ratio a/b; writes them to bench/results/.
 *
 * The 10 s of each server are measured as alternating slices of BENCH_SLICE seconds (default 2:
 * leasehold, baseline, baseline, leasehold, ...): this machine's speed drifts by up to half within
 * a minute, so two 10 s runs one after the other compare different machines. Req/s is over all
 * slices; p50 is the median of the slices' p50, p99 the highest slice p99.
 *
 * Env: BENCH_DURATION (seconds per server, default 10), BENCH_SLICE (2), BENCH_WARMUP (default 2), BENCH_CONNECTIONS (50),
 * BENCH_PROFILE=1 (Leasehold runs with --cpu-prof into a temporary directory it prints; summarise
 * with `npx tsx bench/profile-summary.ts <file>`), DATABASE_URL
 * (admin connection; default postgresql://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { cpuPerRequest, sampleCpu, type CpuSample } from "./support/cpu.js";
import { measure, type LoadFigures } from "./support/load.js";
import { startProcess, type ServerProcess } from "./support/process.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = join(ROOT, "bench", "results");
const ADMIN_URL = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const DURATION = Number(process.env["BENCH_DURATION"] ?? 10);
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? 2);
const CONNECTIONS = Number(process.env["BENCH_CONNECTIONS"] ?? 50);
const SLICE = Number(process.env["BENCH_SLICE"] ?? 2);
const SLICES = Math.max(1, Math.round(DURATION / SLICE));
const PROFILE = process.env["BENCH_PROFILE"] === "1";
const SECRETS = 50;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function databaseUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function api(base: string, auth: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: auth, ...(body ? { "Content-Type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

/** App, service account with access, its token, and 50 secrets, all through the real API. */
async function seed(base: string, ownerToken: string) {
  const owner = `Bearer ${ownerToken}`;
  const app = await api(base, owner, "POST", "/v1/apps/", { name: "bench", environments: ["Development"] });
  const sa = await api(base, owner, "POST", "/v1/service-accounts/", { name: "bench-reader" });
  await api(base, owner, "POST", `/v1/service-accounts/${sa.id}/access/`, { app_id: app.id, environments: ["Development"] });
  const token = await api(base, owner, "POST", `/v1/service-accounts/${sa.id}/tokens/`, { name: "bench" });
  const path = `/v1/secrets/?app_id=${app.id}&env=Development`;
  const secrets = Array.from({ length: SECRETS }, (_, i) => ({
    key: `BENCH_SECRET_${String(i).padStart(2, "0")}`,
    value: randomBytes(24).toString("base64url"),
    comment: i % 5 === 0 ? "rotated quarterly" : "",
  }));
  await api(base, token.authorization, "POST", path, { secrets });
  const envId = app.environments.find((e: { name: string }) => e.name === "Development").id as string;
  return { path, auth: token.authorization as string, envId };
}

async function bodySize(url: string, headers: Record<string, string>): Promise<{ bytes: number; items: number }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text}`);
  return { bytes: Buffer.byteLength(text), items: (JSON.parse(text) as unknown[]).length };
}

/** secret.read rows (one per request) and how many of them list all the secrets, each with its id, digest and version. */
async function countReads(dbUrl: string): Promise<{ rows: number; complete: number }> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT count(*)::int AS rows,
              count(*) FILTER (WHERE cardinality(rs.secret_ids) = $1 AND array_position(rs.secret_ids, NULL) IS NULL
                                 AND cardinality(rs.key_digests) = $1 AND cardinality(rs.versions) = $1)::int AS complete
         FROM audit_events e LEFT JOIN audit_read_sets rs ON rs.id = e.read_set_id WHERE e.event_type = 'secret.read'`,
      [SECRETS],
    );
    return { rows: rows[0].rows, complete: rows[0].complete };
  } finally {
    await c.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** CPU per request over several measured slices (each a before/after pair of samples). */
function cpuOverSlices(pairs: (CpuSample | null)[][], requests: number) {
  const per = pairs.map(([b, a]) => cpuPerRequest(b ?? null, a ?? null, 1));
  if (per.some((c) => c === null) || requests === 0) return null;
  const total = (k: keyof NonNullable<(typeof per)[number]>) => Number((per.reduce((n, c) => n + c![k], 0) / requests).toFixed(3));
  return { serverMs: total("serverMs"), serverSystemMs: total("serverSystemMs"), postgresMs: total("postgresMs"), clientMs: total("clientMs") };
}

const fmt = (f: LoadFigures) =>
  `${f.requestsPerSecond.toFixed(0).padStart(6)} req/s   p50 ${String(f.p50Ms).padStart(3)} ms   p99 ${String(f.p99Ms).padStart(3)} ms` +
  `   (${f.requests} requests, non-2xx ${f.non2xx}, errors ${f.errors})`;

async function main(): Promise<void> {
  const dbName = `lh_bench_${randomBytes(5).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE "${dbName}"`));
  const dbUrl = databaseUrl(dbName);
  const ownerToken = randomBytes(32).toString("hex");
  const profileDir = join(tmpdir(), `leasehold-bench-profile-${Date.now()}`);
  const running: ServerProcess[] = [];
  try {
    if (PROFILE) mkdirSync(profileDir, { recursive: true });
    const leasehold = await startProcess({
      name: "leasehold",
      script: join(ROOT, "src", "cli", "index.ts"),
      args: ["serve"],
      nodeArgs: PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
      env: {
        DATABASE_URL: dbUrl,
        LEASEHOLD_MASTER_KEY: randomBytes(32).toString("base64"),
        LEASEHOLD_BOOTSTRAP_TOKEN: ownerToken,
        LOG_LEVEL: "warn",
        RATE_LIMIT_DEFAULT: "",
        REDIS_URL: "",
      },
    });
    running.push(leasehold);
    const { path, auth, envId } = await seed(leasehold.url, ownerToken);
    const baseline = await startProcess({
      name: "baseline",
      script: join(ROOT, "bench", "baseline-server.ts"),
      env: { DATABASE_URL: dbUrl, ENVIRONMENT_ID: envId },
      nodeArgs: PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}-baseline`] : [],
    });
    running.push(baseline);

    const targets: { name: string; url: string; headers: Record<string, string> }[] = [
      { name: "leasehold", url: leasehold.url + path, headers: { Authorization: auth } },
      { name: "baseline", url: baseline.url + "/v1/secrets/", headers: {} },
    ];
    const sizes = await Promise.all(targets.map((t) => bodySize(t.url, t.headers)));
    console.log(`GET of ${SECRETS} secrets, ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s in ${SLICES} alternating slices, ${cpus().length} cores`);
    targets.forEach((t, i) => console.log(`  ${t.name.padEnd(9)} response: ${sizes[i]!.bytes} bytes, ${sizes[i]!.items} secrets`));

    // Alternate short slices, swapping which server goes first each time, so both see the same drift.
    const totals = targets.map(() => ({ requests: 0, ok: 0, non2xx: 0, errors: 0, warmup: 0, p50s: [] as number[], p99s: [] as number[], cpu: [] as (CpuSample | null)[][] }));
    for (const [i, t] of targets.entries()) {
      totals[i]!.warmup = (await measure({ url: t.url, headers: t.headers, connections: CONNECTIONS, durationSeconds: WARMUP, warmupSeconds: 0 })).ok;
    }
    const sliceRatios: number[] = [];
    for (let slice = 0; slice < SLICES; slice++) {
      const perSecond: number[] = [];
      for (const i of slice % 2 === 0 ? [0, 1] : [1, 0]) {
        const t = targets[i]!;
        const pid = running[i]!.child.pid!;
        const pair: (CpuSample | null)[] = [null, null];
        const around = { before: () => void (pair[0] = sampleCpu(pid)), after: () => void (pair[1] = sampleCpu(pid)) };
        const f = await measure({ url: t.url, headers: t.headers, connections: CONNECTIONS, durationSeconds: SLICE, warmupSeconds: 0, around });
        const sum = totals[i]!;
        sum.requests += f.requests;
        sum.ok += f.ok;
        sum.non2xx += f.non2xx;
        sum.errors += f.errors;
        sum.p50s.push(f.p50Ms);
        sum.p99s.push(f.p99Ms);
        sum.cpu.push(pair);
        perSecond[i] = f.requestsPerSecond;
      }
      sliceRatios.push(perSecond[0]! / perSecond[1]!);
    }
    const figures: Record<string, LoadFigures & { p99MedianMs: number }> = {};
    const cpu: Record<string, ReturnType<typeof cpuPerRequest>> = {};
    for (const [i, t] of targets.entries()) {
      const sum = totals[i]!;
      figures[t.name] = {
        requestsPerSecond: sum.requests / (SLICES * SLICE),
        p50Ms: median(sum.p50s),
        p99Ms: Math.max(...sum.p99s),
        p99MedianMs: median(sum.p99s),
        requests: sum.requests,
        ok: sum.ok,
        non2xx: sum.non2xx,
        errors: sum.errors,
        timeouts: 0,
        bytesPerSecond: 0,
        warmupRequests: sum.warmup,
      };
      cpu[t.name] = cpuOverSlices(sum.cpu, sum.requests);
      const c = cpu[t.name];
      const cpuText = c ? `   CPU/request: server ${c.serverMs} ms (kernel ${c.serverSystemMs}), postgres ${c.postgresMs} ms, client ${c.clientMs} ms` : "";
      console.log(`  ${t.name.padEnd(9)} ${fmt(figures[t.name]!)}${cpuText}`);
    }
    const ratio = figures["leasehold"]!.requestsPerSecond / figures["baseline"]!.requestsPerSecond;
    console.log(`  ratio leasehold/baseline: ${ratio.toFixed(2)} (target >= 0.60); slice by slice: ${sliceRatios.map((r) => r.toFixed(2)).join(", ")}`);

    // Graceful shutdown flushes the audit buffer: every read must be in the trail afterwards.
    for (const p of running.splice(0).reverse()) await p.stop();
    const audit = await countReads(dbUrl);

    // Every completed read wrote one row listing its secrets; requests in flight when a run ends (at
    // most one per connection per run) were cut off by the client but still served and audited.
    const lh = figures["leasehold"]!;
    const completedReads = lh.warmupRequests + lh.ok + 1;
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `secrets-read-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    const result = {
      benchmark: "secrets-read",
      at: new Date().toISOString(),
      node: process.version,
      cores: cpus().length,
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      warmupSeconds: WARMUP,
      secrets: SECRETS,
      responseBytes: { leasehold: sizes[0]!.bytes, baseline: sizes[1]!.bytes },
      slices: SLICES,
      sliceSeconds: SLICE,
      leasehold: figures["leasehold"],
      baseline: figures["baseline"],
      ratio: Number(ratio.toFixed(3)),
      sliceRatios: sliceRatios.map((r) => Number(r.toFixed(3))),
      cpuPerRequest: cpu,
      auditReadRowsAfterShutdown: audit.rows,
      auditReadRowsListingEverySecret: audit.complete,
      completedReads,
      profiled: PROFILE,
    };
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    // Each run (warm-up and measured) can cut off one request per connection that was still served.
    const [low, high] = [completedReads, completedReads + (SLICES + 1) * CONNECTIONS];
    const audited = audit.rows >= low && audit.rows <= high && audit.complete === audit.rows ? "ok" : "MISMATCH";
    console.log(
      `  audit: ${audit.rows} secret.read rows after shutdown (${audit.complete} listing all ${SECRETS} secrets); ` +
        `expected ${low}..${high} (${completedReads} completed reads): ${audited}`,
    );
    console.log(`  results: ${file}${PROFILE ? `\n  CPU profile: ${profileDir}` : ""}`);
  } finally {
    for (const p of running.reverse()) await p.stop().catch(() => undefined);
    await admin((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
  }
}

await main();
