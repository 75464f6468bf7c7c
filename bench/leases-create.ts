/**
 * `npx tsx bench/leases-create.ts`: lease creation with the PostgreSQL provider, measured through
 * the lease service (what the HTTP routes call): p50/p99 latency and leases/s at concurrency 1
 * and 10. Baseline in the same run: the provider's create alone (plan + CREATE ROLE transaction),
 * i.e. the cost without the lease bookkeeping (sealed state, CREATING insert, conditional
 * activate + event). Also the same through HTTP (Phase's GET /v1/secrets/dynamic/?lease=true,
 * Fastify listening on loopback in this process, fetch as the client), and manual revoke latency
 * (inline revocation) at concurrency 1.
 * Floor in the same run: the target database alone (targetOnly_c*): a pg pool of 10 connections
 * running the same CREATE ROLE transaction with a precomputed SCRAM verifier, no Leasehold code.
 * PostgreSQL spends about 3.3 ms of CPU on every role created with a password (one PBKDF2, even
 * for a pre-hashed verifier: it checks the verifier is not that of an empty password), so on two
 * cores shared with everything else, 10 concurrent creations queue behind each other there.
 * Leasehold's share in the same run (leaseCreateNoPassword_c*): the same leases from a definition
 * whose role gets no password, so neither side runs PBKDF2.
 * With config scram_iterations 1000 (leaseCreateScram1000_c*): the same leases with a quarter of
 * the PBKDF2 work on both sides (see the README for the clients that accept it).
 * Targets: create p50 <= 20 ms, p99 <= 100 ms, for the default config (leaseCreate_c*).
 *
 * Env: BENCH_N1 (calls at concurrency 1, default 300), BENCH_N10 (at 10, default 1000),
 * DATABASE_URL (admin connection).
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { buildApp } from "../src/app.js";
import { scramVerifier } from "../src/providers/postgresql-scram.js";
import { createLogger } from "../src/logger.js";
import type { Provider } from "../src/providers/provider.js";
import { createBenchDb, dropRoles, machine, measureCalls, openBenchServer, writeResult, type LatencyFigures } from "./leases-support.js";

const N1 = Number(process.env["BENCH_N1"] ?? 300);
const N10 = Number(process.env["BENCH_N10"] ?? 1000);

const db = await createBenchDb();
const s = await openBenchServer(db);
const results: Record<string, LatencyFigures> = {};
try {
  const provider = s.container.providers.get("postgresql") as Provider;
  const def = await s.container.dynamicSecrets.open(s.secretId);
  const expiresAt = new Date(Date.now() + 3_600_000);
  // The same retry on retryable errors as the lease layer (concurrent GRANTs on one table collide).
  const providerOnly = async () => {
    const leaseId = randomUUID();
    const planned = provider.plan(def.config, { leaseId, roleName: "reader" });
    for (let attempt = 1; ; attempt++) {
      try {
        return await provider.create(def.config, planned, { leaseId, roleName: "reader", expiresAt, ttlSeconds: 3600 });
      } catch (err) {
        if (attempt >= 4 || provider.classifyError(err) !== "retryable") throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 100 * attempt));
      }
    }
  };
  const viaService = () => s.container.leases.createLease(s.owner, undefined, { secretId: s.secretId, ttl: 3600 });
  const app = await buildApp(s.container, { logger: createLogger("error") });
  const base = await app.listen({ host: "127.0.0.1", port: 0 });
  const leaseUrl = `${base}/v1/secrets/dynamic/?app_id=${s.appId}&env=Production&id=${s.secretId}&lease=true&ttl=3600`;
  const headers = { Authorization: `Bearer User ${s.env["LEASEHOLD_BOOTSTRAP_TOKEN"]}` };
  const viaHttp = async () => {
    const res = await fetch(leaseUrl, { headers });
    const body = (await res.json()) as { lease?: { id: string } }[];
    if (res.status !== 200 || !body[0]?.lease) throw new Error(`lease over HTTP: ${res.status}`);
  };

  // Leasehold's own share: the same lease from a definition whose role has no password (no PBKDF2
  // on either side), e.g. a role that logs in by certificate.
  const { config: withPassword } = def as unknown as { config: Record<string, unknown> };
  const noPassword = await s.container.dynamicSecrets.create(s.owner, {
    environmentId: def.record.environmentId,
    name: "reader-nopw",
    path: "/nopw", // its own key names (DB_USERNAME, ...) at another path
    provider: "postgresql",
    config: { ...withPassword, creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN VALID UNTIL '{{expiration}}' IN ROLE "${s.prefix}_readers"`] },
    defaultTtl: 3600,
    maxTtl: 86_400,
  });
  const viaServiceNoPassword = () => s.container.leases.createLease(s.owner, undefined, { secretId: noPassword.id, ttl: 3600 });
  // The same role with config scram_iterations 1000 (the lowest lib/pq accepts): a quarter of the PBKDF2 on both sides.
  const iter1000 = await s.container.dynamicSecrets.create(s.owner, {
    environmentId: def.record.environmentId,
    name: "reader-iter1000",
    path: "/iter1000",
    provider: "postgresql",
    config: { ...withPassword, scram_iterations: 1000 },
    defaultTtl: 3600,
    maxTtl: 86_400,
  });
  const viaServiceIter1000 = () => s.container.leases.createLease(s.owner, undefined, { secretId: iter1000.id, ttl: 3600 });

  // The floor: the same transaction straight from a pool, the verifier computed once beforehand.
  const floorPool = new pg.Pool({ connectionString: db.url, max: 10 });
  const verifier = scramVerifier("bench-floor-password-0123456789");
  let floorN = 0;
  const targetOnly = async () => {
    const name = `${s.prefix}_floor_${floorN++}`;
    const c = await floorPool.connect();
    try {
      await c.query("BEGIN");
      await c.query(`CREATE ROLE "${name}" WITH LOGIN PASSWORD '${verifier}' VALID UNTIL '2100-01-01 00:00:00+00' IN ROLE "${s.prefix}_readers"`);
      await c.query("COMMIT");
    } finally {
      c.release();
    }
  };

  // Warm-up: pools, JIT, the server key.
  for (let i = 0; i < 20; i++) await viaService();
  for (let i = 0; i < 20; i++) await targetOnly();

  results["targetOnly_c1"] = await measureCalls(N1, 1, targetOnly);
  results["targetOnly_c10"] = await measureCalls(N10, 10, targetOnly);
  await floorPool.end();

  results["providerCreate_c1"] = await measureCalls(N1, 1, providerOnly);
  results["leaseCreate_c1"] = await measureCalls(N1, 1, viaService);
  results["providerCreate_c10"] = await measureCalls(N10, 10, providerOnly);
  results["leaseCreate_c10"] = await measureCalls(N10, 10, viaService);
  for (let i = 0; i < 20; i++) await viaServiceNoPassword();
  results["leaseCreateNoPassword_c1"] = await measureCalls(N1, 1, viaServiceNoPassword);
  results["leaseCreateNoPassword_c10"] = await measureCalls(N10, 10, viaServiceNoPassword);
  for (let i = 0; i < 20; i++) await viaServiceIter1000();
  results["leaseCreateScram1000_c1"] = await measureCalls(N1, 1, viaServiceIter1000);
  results["leaseCreateScram1000_c10"] = await measureCalls(N10, 10, viaServiceIter1000);
  for (let i = 0; i < 20; i++) await viaHttp();
  results["httpLeaseCreate_c1"] = await measureCalls(N1, 1, viaHttp);
  results["httpLeaseCreate_c10"] = await measureCalls(N10, 10, viaHttp);
  await app.close();

  const toRevoke: string[] = [];
  for (let i = 0; i < 200; i++) toRevoke.push((await viaService()).lease.id);
  results["leaseRevoke_c1"] = await measureCalls(toRevoke.length, 1, (i) => s.container.leases.revokeLease(s.owner, undefined, { leaseId: toRevoke[i]! }));

  console.log(`lease creation, PostgreSQL provider (${machine().cpus} cores, ${machine().node})`);
  console.log("case                           n  conc  p50 ms  p99 ms  max ms   per s  errors");
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(26)} ${String(r.n).padStart(5)} ${String(r.concurrency).padStart(5)} ${r.p50Ms.toFixed(2).padStart(7)} ${r.p99Ms.toFixed(2).padStart(7)} ${r.maxMs.toFixed(1).padStart(7)} ${r.perSecond.toFixed(1).padStart(7)} ${String(r.errors).padStart(7)}`);
  }
  const c1 = results["leaseCreate_c1"]!;
  const c10 = results["leaseCreate_c10"]!;
  const targets = { p50_le_20ms: c1.p50Ms <= 20 && c10.p50Ms <= 20, p99_le_100ms: c1.p99Ms <= 100 && c10.p99Ms <= 100 };
  console.log(`targets: p50 <= 20 ms ${targets.p50_le_20ms ? "met" : "MISSED"}, p99 <= 100 ms ${targets.p99_le_100ms ? "met" : "MISSED"}`);
  console.log(`written to ${writeResult("leases-create", { machine: machine(), results, targets })}`);
} finally {
  await s.close();
  await db.drop();
  await dropRoles(s.prefix);
}
