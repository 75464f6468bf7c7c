import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/paths.js";
import { finished } from "../cli/cli.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startTestServer, testMasterKey } from "../support/server.js";
import { createTarget, engineFixture, passwordWorks, readonlyRole, roleExists, supportDb, type Target } from "./helpers.js";

const TSX = join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const DRIVER = join(PROJECT_ROOT, "test", "dynamic-engines", "rotate-driver.ts");

/**
 * rotate-root killed (SIGKILL, no cleanup) after the target's root password changed and before
 * the new one was stored: the restarted server is not locked out. It finds the pending secret,
 * confirms it against the target and uses it; leases from before the crash are still revoked.
 */
describe("rotate-root: a crash between the change on the target and storing it", () => {
  let db: TestDatabase;
  let target: Target;
  const masterKey = testMasterKey();
  const ownerToken = randomBytes(32).toString("hex");
  const env = { LEASEHOLD_BOOTSTRAP_TOKEN: ownerToken, LEASEHOLD_REAPER_SCHEDULE: "off" };
  let earlier: { lease_id: string; data: { username: string } };

  beforeAll(async () => {
    db = await createTestDatabase();
    target = await createTarget();
    const t = await startTestServer({ db, masterKey, env });
    try {
      const call = (path: string, body: unknown) => t.http.post(path).set("Authorization", `Bearer ${ownerToken}`).send(body as object);
      expect((await call("/v1/dynamic/engines", supportDb(target))).status).toBe(201);
      expect((await call("/v1/dynamic/engines/support-db/roles", readonlyRole(target.root))).status).toBe(201);
      earlier = (await call("/v1/dynamic/engines/support-db/creds/readonly", { ttl: "1h" })).body;
      expect(await roleExists(earlier.data.username)).toBe(true);
    } finally {
      await t.close();
    }
  }, 60_000);

  afterAll(async () => {
    const leased = await db.query<{ upstream_identity: string }>("SELECT upstream_identity FROM leases");
    await db.drop();
    await target.drop(leased.map((r) => r.upstream_identity));
  });

  it("the restarted server confirms the new root password and keeps working", async () => {
    const child = spawn(process.execPath, [TSX, DRIVER, "support-db"], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env["PATH"] ?? "",
        HOME: process.env["HOME"] ?? "",
        DATABASE_URL: db.url,
        LEASEHOLD_MASTER_KEY: masterKey,
        LOG_LEVEL: "warn",
        LEASEHOLD_FAULT: "engine-root-rotated",
        LEASEHOLD_ENABLE_FAULT_INJECTION: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const r = await finished(child);
    expect(r.signal === "SIGKILL" || r.code === 137, `${r.code} ${r.signal} ${r.stderr}`).toBe(true);
    expect(r.stderr).toContain("fault injection: SIGKILL at engine-root-rotated");
    expect(r.stdout.split("\n").some((l) => /^(rotated|failed)/.test(l)), "the driver never finished").toBe(false);

    // The target has a new root password; the engine row still names the old one, plus the pending one.
    const [row] = await db.query<{ pending: boolean; rotated: Date | null }>(
      "SELECT root_pending_cipher IS NOT NULL AS pending, root_rotated_at AS rotated FROM dynamic_engines",
    );
    expect(row).toEqual({ pending: true, rotated: null });
    expect(await passwordWorks(target.root, target.rootPassword)).toBe(false);

    // Restart (with logins checked by password, as a real server would): not locked out.
    const f = await engineFixture({ db, masterKey, env, target });
    try {
      const fresh = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, { ttl: "1h" });
      expect(fresh.status).toBe(200);
      expect(await passwordWorks(fresh.body.data.username, fresh.body.data.password)).toBe(true);
      const [after] = await db.query<{ pending: boolean; rotated: Date | null }>(
        "SELECT root_pending_cipher IS NOT NULL AS pending, root_rotated_at AS rotated FROM dynamic_engines",
      );
      expect(after!.pending).toBe(false);
      expect(after!.rotated).not.toBeNull();
      // The lease issued before the crash is revoked with the confirmed root.
      const revoked = await f.call("DELETE", `/v1/dynamic/leases/${earlier.lease_id}`, f.admin);
      expect(revoked.body.status).toBe("revoked");
      expect(await roleExists(earlier.data.username)).toBe(false);
      // And the next rotation starts from it.
      expect((await f.call("POST", "/v1/dynamic/engines/support-db/rotate-root", f.admin)).status).toBe(200);
      expect((await f.call("DELETE", `/v1/dynamic/leases/${fresh.body.lease_id}`, f.admin)).body.status).toBe("revoked");
    } finally {
      await f.t.close();
    }
  }, 120_000);
});
