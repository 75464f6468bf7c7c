import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FAULT_POINTS } from "../../src/config.js";
import { PROJECT_ROOT } from "../../src/paths.js";
import { finished, spawnCli, type CliResult } from "../cli/cli.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startFakeIam, type FakeIam } from "../support/fake-iam.js";
import { startTestServer, testMasterKey } from "../support/server.js";
import { dropRolesWithPrefix, pgConfig, type LeaseHarness } from "./helpers.js";

type Fault = (typeof FAULT_POINTS)[number];
const CREATE_FAULTS: Fault[] = ["after-row-insert", "after-provider-create", "before-activate"];
const REVOKE_FAULTS: Fault[] = ["after-claim", "after-provider-revoke", "before-finalize"];

const TSX = join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const DRIVER = join(PROJECT_ROOT, "test", "leases", "crash-driver.ts");

/**
 * G1, zero orphans under crash injection. Each fault point kills a real process (SIGKILL, no
 * cleanup) in the middle of creating or revoking a PostgreSQL role and an AWS IAM user (fake IAM).
 * Then a real `leasehold serve` starts without the fault: its 1 s reaper must leave no role and no
 * IAM user behind, and no lease CREATING, ACTIVE-by-mistake or stuck in a dead instance's claim.
 */
describe("crash safety: SIGKILL at every step of create and revoke, then restart", () => {
  let db: TestDatabase;
  let iam: FakeIam;
  const prefix = `c${randomBytes(4).toString("hex")}`;
  const masterKey = testMasterKey();
  const ownerToken = randomBytes(32).toString("hex");
  let pgSecret: string;
  let awsSecret: string;
  /** Active leases to crash the revocation of: one PostgreSQL and one AWS per revoke fault. */
  const active: Record<string, string[]> = {};

  // Short timeouts so the restarted server takes over the dead process's claims within seconds, but
  // long enough that a provider call on a loaded machine (four drivers starting at once) finishes
  // and reaches its fault point instead of timing out first.
  const baseEnv = () => ({
    DATABASE_URL: db.url,
    LEASEHOLD_MASTER_KEY: masterKey,
    LEASEHOLD_BOOTSTRAP_TOKEN: ownerToken,
    LOG_LEVEL: "warn",
    LEASEHOLD_LEASE_CREATE_TIMEOUT_MS: "5000",
    LEASEHOLD_REAPER_CLAIM_TTL_MS: "5000",
    LEASEHOLD_PROVIDER_TIMEOUT_MS: "4000",
    LEASEHOLD_REVOCATION_BACKOFF_BASE_MS: "200",
    LEASEHOLD_REVOCATION_BACKOFF_MAX_MS: "1000",
  });

  function drive(fault: Fault, action: "create" | "revoke", ids: string[]): Promise<CliResult> {
    const child = spawn(process.execPath, [TSX, DRIVER, action, ...ids], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...baseEnv(), LEASEHOLD_FAULT: fault, LEASEHOLD_ENABLE_FAULT_INJECTION: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return finished(child);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    iam = await startFakeIam();
    // Setup through an in-process server (its reaper off), closed before any crash.
    const t = await startTestServer({ db, masterKey, env: { LEASEHOLD_BOOTSTRAP_TOKEN: ownerToken, LEASEHOLD_REAPER_SCHEDULE: "off" } });
    try {
      const c = t.server.container;
      const owner = await c.authenticator.authenticate({ type: undefined, token: ownerToken });
      const env = (await c.appService.createApp("crash", ["Dev"])).environments[0]!.id;
      await db.query("CREATE TABLE reports (id int primary key, body text)");
      const h = { t, prefix } as unknown as LeaseHarness;
      pgSecret = (await c.dynamicSecrets.create(owner, { environmentId: env, name: "pg", provider: "postgresql", config: pgConfig(h), defaultTtl: 3600, maxTtl: 7200 })).id;
      const aws = { region: "us-east-1", endpoint: iam.endpoint, access_key_id: iam.rootAccessKeyId, secret_access_key: iam.rootSecretAccessKey, iam_path: "/crash/" };
      awsSecret = (await c.dynamicSecrets.create(owner, { environmentId: env, name: "aws", provider: "aws", config: aws, defaultTtl: 3600, maxTtl: 7200 })).id;
      for (const f of REVOKE_FAULTS) {
        active[f] = await Promise.all([pgSecret, awsSecret].map(async (secretId) => (await c.leases.createLease(owner, undefined, { secretId })).lease.id));
      }
    } finally {
      await t.close();
    }
  }, 120_000);

  afterAll(async () => {
    await iam?.close();
    await db?.drop();
    await dropRolesWithPrefix(prefix);
  });

  const roles = async () =>
    (await db.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", [`${prefix}_`])).map((r) => r.rolname);

  it(
    "every fault point kills the process mid-way; a restarted server cleans up everything",
    async () => {
      // One process per (fault, provider), so each crash is at exactly that step; four at a time.
      const jobs = [
        ...CREATE_FAULTS.flatMap((f) => [pgSecret, awsSecret].map((id) => () => drive(f, "create", [id]).then((r) => [f, r] as const))),
        ...REVOKE_FAULTS.flatMap((f) => active[f]!.map((id) => () => drive(f, "revoke", [id]).then((r) => [f, r] as const))),
      ];
      const runs: (readonly [Fault, CliResult])[] = [];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let job = jobs.shift(); job; job = jobs.shift()) runs.push(await job());
        }),
      );
      expect(runs).toHaveLength(12);
      for (const [fault, r] of runs) {
        // tsx relays the child's death; either way the process was killed, not exited.
        expect(r.signal === "SIGKILL" || r.code === 137, `${fault}: ${r.code} ${r.signal} ${r.stderr}`).toBe(true);
        expect(r.stderr).toContain(`fault injection: SIGKILL at ${fault}`);
        expect(r.stdout.split("\n").some((l) => l.startsWith("[")), "the driver never finished").toBe(false);
      }

      // What the crashes left: half-made credentials and rows held by a dead instance.
      const left = await db.query<{ status: string; n: number }>("SELECT status::text, count(*)::int AS n FROM leases GROUP BY 1 ORDER BY 1");
      const byStatus = Object.fromEntries(left.map((r) => [r.status, r.n]));
      expect(byStatus).toEqual({ CREATING: 6, REVOKING: 6 });
      expect((await roles()).length).toBeGreaterThan(0);
      expect(iam.users().length).toBeGreaterThan(0);

      const server = spawnCli(["serve"], { ...baseEnv(), HOST: "127.0.0.1", PORT: "0" });
      const done = finished(server);
      try {
        let settled = false;
        for (let i = 0; i < 240 && !settled; i++) {
          await new Promise((r) => setTimeout(r, 250));
          const [pending] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM leases WHERE status IN ('CREATING', 'REVOKING') AND provider = 'postgresql'");
          settled = pending!.n === 0 && (await roles()).length === 0 && iam.users().length === 0;
        }
        expect(await roles()).toEqual([]);
        expect(iam.users()).toEqual([]);
        const pg = await db.query<{ status: string; n: number }>(
          "SELECT status::text, count(*)::int AS n FROM leases WHERE provider = 'postgresql' GROUP BY 1 ORDER BY 1",
        );
        expect(pg).toEqual([
          { status: "ACTIVE", n: 0 },
          { status: "CREATE_FAILED", n: 3 },
          { status: "REVOKED", n: 3 },
        ].filter((r) => r.n > 0));
        // AWS leases: users are gone; a rollback of a user that was never created may still be
        // retrying ("not visible yet" within IAM's consistency window), but none is CREATING or held.
        const aws = await db.query<{ status: string; claimed_by: string | null }>("SELECT status::text, claimed_by FROM leases WHERE provider = 'aws'");
        expect(aws.filter((l) => l.status === "CREATING" || l.status === "ACTIVE")).toEqual([]);
      } finally {
        server.kill("SIGTERM");
        const exit = await done;
        expect(exit.code).toBe(0);
      }
    },
    180_000,
  );
});
