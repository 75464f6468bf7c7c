/**
 * `npx tsx bench/leases-expiry.ts`: revocation after expiry by the real reaper (node-cron, every
 * second) in a separate `leasehold serve` process, with the PostgreSQL provider.
 *
 *  1. Lag: BENCH_LAG_N leases (default 300) whose expiries are spread over 10 s; lag = revoked_at
 *     - expires_at, p50/p99/max (target p99 <= 2 s).
 *  2. Storm: BENCH_STORM_N leases (default 10,000) all expiring at the same instant: time until
 *     every one is revoked (target <= 60 s), roles left, failed attempts (retried), and the server's
 *     RSS before (idle, after boot) and after (peak during the storm, and once it is over).
 *
 * Leases are created through the lease service (ttl 1 h) before the server starts; expiries are
 * then moved with one UPDATE so the run does not wait an hour (the reaper reads expires_at like
 * any other value). Env: BENCH_LAG_N, BENCH_STORM_N, BENCH_REVOCATION ("drop", the default:
 * revocation_statements that drop the role, which holds only a group membership; or "default":
 * the provider's generic revoke-everything path), DATABASE_URL (admin connection).
 */
import { join } from "node:path";
import pg from "pg";
import { startProcess } from "./support/process.js";
import { createBenchDb, dropRoles, machine, measureCalls, openBenchServer, percentile, ROOT, rssMiB, writeResult } from "./leases-support.js";

const LAG_N = Number(process.env["BENCH_LAG_N"] ?? 300);
const STORM_N = Number(process.env["BENCH_STORM_N"] ?? 10_000);
const REVOCATION = process.env["BENCH_REVOCATION"] === "default" ? "default" : "drop";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const db = await createBenchDb();
const s = await openBenchServer(db, { revocation: REVOCATION });
console.log(`revocation statements: ${REVOCATION}`);
const { prefix, env } = s;
const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
const count = async (where: string, params: unknown[] = []) =>
  Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM leases WHERE ${where}`, params)).rows[0]!.n);
const roleCount = async () =>
  Number((await sql.query<{ n: string }>("SELECT count(*) AS n FROM pg_roles WHERE starts_with(rolname, $1) AND rolcanlogin", [`${prefix}_`])).rows[0]!.n);

let server: Awaited<ReturnType<typeof startProcess>> | undefined;
try {
  const t0 = performance.now();
  const made = await measureCalls(LAG_N + STORM_N, 10, () => s.container.leases.createLease(s.owner, undefined, { secretId: s.secretId, ttl: 3600 }));
  console.log(`created ${made.n - made.errors} leases in ${((performance.now() - t0) / 1000).toFixed(1)} s (${made.perSecond}/s, ${made.errors} errors)`);
  await s.close();
  const ids = (await sql.query<{ id: string }>("SELECT id FROM leases WHERE status = 'ACTIVE' ORDER BY created_at")).rows.map((r) => r.id);
  const lagIds = ids.slice(0, LAG_N);
  const stormIds = ids.slice(LAG_N);

  server = await startProcess({ name: "leasehold", script: join(ROOT, "src", "cli", "index.ts"), args: ["serve"], env: { ...env, LOG_LEVEL: "warn" } });
  const pid = server.child.pid!;
  await sleep(3_000);
  const rssIdle = rssMiB(pid);

  // 1. Lag: expiries spread over 3..13 s from now.
  await sql.query("UPDATE leases SET expires_at = now() + (3 + random() * 10) * interval '1 second' WHERE id = ANY($1::uuid[])", [lagIds]);
  for (let i = 0; i < 120 && (await count("id = ANY($1::uuid[]) AND status <> 'EXPIRED'", [lagIds])) > 0; i++) await sleep(500);
  const lagRows = (
    await sql.query<{ lag: number }>("SELECT extract(epoch FROM revoked_at - expires_at) * 1000 AS lag FROM leases WHERE id = ANY($1::uuid[]) AND status = 'EXPIRED'", [lagIds])
  ).rows.map((r) => Number(r.lag)).sort((a, b) => a - b);
  const lag = {
    n: lagRows.length,
    p50Ms: Math.round(percentile(lagRows, 50)),
    p99Ms: Math.round(percentile(lagRows, 99)),
    maxMs: Math.round(lagRows.at(-1) ?? NaN),
    notRevoked: LAG_N - lagRows.length,
  };
  console.log(`lag after expiry (${lag.n} leases, 1 s reaper): p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms, max ${lag.maxMs} ms`);

  // 2. Storm: everything expires now.
  const rssBefore = rssMiB(pid);
  const stormStart = Date.now();
  await sql.query("UPDATE leases SET expires_at = now() WHERE id = ANY($1::uuid[])", [stormIds]);
  let rssPeak = rssBefore;
  let remaining = STORM_N;
  while (remaining > 0 && Date.now() - stormStart < 180_000) {
    await sleep(500);
    rssPeak = Math.max(rssPeak, rssMiB(pid));
    remaining = await count("id = ANY($1::uuid[]) AND status <> 'EXPIRED'", [stormIds]);
  }
  const stormSeconds = (Date.now() - stormStart) / 1000;
  const lastRevoked = (await sql.query<{ s: number }>("SELECT extract(epoch FROM max(revoked_at) - min(expires_at)) AS s FROM leases WHERE id = ANY($1::uuid[])", [stormIds])).rows[0]!.s;
  await sleep(2_000);
  const rssAfter = rssMiB(pid);
  const failedAttempts = Number(
    (await sql.query<{ n: string }>("SELECT count(*) AS n FROM lease_events WHERE event_type = 'revoke_attempt_failed' AND lease_id = ANY($1::uuid[])", [stormIds])).rows[0]!.n,
  );
  const errorSample = (await sql.query<{ error: string }>("SELECT DISTINCT metadata->>'error' AS error FROM lease_events WHERE event_type = 'revoke_attempt_failed' LIMIT 3")).rows.map((r) => r.error);
  const storm = {
    n: STORM_N,
    allRevokedWithinSeconds: remaining === 0 ? Math.round(Number(lastRevoked) * 10) / 10 : null,
    observedSeconds: Math.round(stormSeconds * 10) / 10,
    notRevoked: remaining,
    loginRolesLeft: await roleCount(),
    failedAttemptsRetried: failedAttempts,
    errorSample,
    rssMiB: { idleAfterBoot: rssIdle, beforeStorm: rssBefore, peakDuringStorm: rssPeak, after: rssAfter },
  };
  console.log(
    `storm: ${STORM_N} leases expiring at once: ${remaining === 0 ? `all revoked within ${storm.allRevokedWithinSeconds} s` : `${remaining} NOT revoked after ${storm.observedSeconds} s`}; ` +
      `login roles left ${storm.loginRolesLeft}; failed attempts retried ${failedAttempts}`,
  );
  if (errorSample.length) console.log(`  attempt errors seen: ${errorSample.join(" | ")}`);
  console.log(`server RSS (MiB): idle ${rssIdle}, before storm ${rssBefore}, peak ${rssPeak}, after ${rssAfter}`);
  const targets = { lagP99_le_2s: lag.p99Ms <= 2_000, storm_le_60s: remaining === 0 && Number(lastRevoked) <= 60 };
  console.log(`targets: lag p99 <= 2 s ${targets.lagP99_le_2s ? "met" : "MISSED"}, 10k within 60 s ${targets.storm_le_60s ? "met" : "MISSED"}`);
  console.log(`written to ${writeResult("leases-expiry", { machine: machine(), revocation: REVOCATION, creation: made, lag, storm, targets })}`);
} finally {
  await server?.stop();
  await sql.end();
  await db.drop();
  await dropRoles(prefix);
}
