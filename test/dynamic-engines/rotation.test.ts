import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRootVault } from "../../src/engines/root.js";
import { createServerKeys } from "../../src/keys/server-keys.js";
import type { SecretReader } from "../../src/secrets/reader.js";
import { engineFixture, passwordWorks, readonlyRole, roleExists, supportDb, type EngineFixture, type RotateFault } from "./helpers.js";

/**
 * rotate-root: the root password changes on the target and is stored; the old one stops working;
 * leases issued before keep being revocable (revocation uses the engine's current root). A failure
 * between the change on the target and storing it never locks the engine out.
 */
describe("POST /v1/dynamic/engines/{engine}/rotate-root", () => {
  let f: EngineFixture;
  let fault: RotateFault = null;

  beforeAll(async () => {
    f = await engineFixture({
      rotateFault: () => {
        const v = fault;
        fault = null;
        return v;
      },
    });
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, readonlyRole(f.target.root))).status).toBe(201);
  });
  afterAll(async () => f?.close());

  /** The engine row's root and pending root, decrypted as the server would. */
  async function stored() {
    const vault = createRootVault({ keys: createServerKeys({ prisma: f.c.db.prisma, masterKey: f.c.masterKey }), reader: {} as SecretReader });
    const [row] = await f.t.db.query<{ id: string; root_cipher: Uint8Array; root_pending_cipher: Uint8Array | null; root_rotated_at: Date | null }>(
      "SELECT id, root_cipher, root_pending_cipher, root_rotated_at FROM dynamic_engines WHERE name = 'support-db'",
    );
    return {
      root: await vault.open(row!.id, "root_credentials", row!.root_cipher),
      pending: row!.root_pending_cipher ? await vault.open(row!.id, "root_pending", row!.root_pending_cipher) : null,
      rotatedAt: row!.root_rotated_at,
    };
  }
  const creds = () => f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, { ttl: "1h" });
  const rotate = () => f.call("POST", "/v1/dynamic/engines/support-db/rotate-root", f.admin);

  it("changes the root password on the target and stores it; the old one no longer logs in", async () => {
    const before = (await creds()).body;
    expect(await passwordWorks(f.target.root, f.target.rootPassword)).toBe(true);
    const r = await rotate();
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ engine: "support-db", rotated: true, root_rotated_at: f.t.clock.now().toISOString() });
    const s = await stored();
    expect(s.pending).toBeNull();
    expect(s.root["username"]).toBe(f.target.root);
    expect(s.root["password"]).not.toBe(f.target.rootPassword);
    expect(s.root["password"]).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await passwordWorks(f.target.root, f.target.rootPassword)).toBe(false);
    expect(await passwordWorks(f.target.root, s.root["password"]!)).toBe(true);
    // The server received a SCRAM verifier, never the clear password.
    expect(f.t.logs().join("\n")).not.toContain(s.root["password"]);
    expect(r.text).not.toContain(s.root["password"]);

    // New credentials work; the lease issued before is revoked with the current root.
    const after = await creds();
    expect(after.status).toBe(200);
    expect(await passwordWorks(after.body.data.username, after.body.data.password)).toBe(true);
    expect((await f.call("DELETE", `/v1/dynamic/leases/${before.lease_id}`, f.admin)).body.status).toBe("revoked");
    expect(await roleExists(before.data.username)).toBe(false);
    expect((await f.call("GET", "/v1/dynamic/engines/support-db", f.admin)).body.root_rotated_at).toBe(r.body.root_rotated_at);
  });

  it("a failure after the target changed keeps both secrets; the next use confirms the new one", async () => {
    const old = (await stored()).root["password"]!;
    fault = "after-change";
    const r = await rotate();
    expect(r.status).toBe(502);
    expect(r.body).toEqual({ error: "The engine's root credentials could not reach the target system.", code: "engine_unreachable" });
    const s = await stored();
    expect(s.root["password"]).toBe(old);
    expect(s.pending).not.toBeNull();
    // The target has the pending password: the stored root alone would now be locked out.
    expect(await passwordWorks(f.target.root, old)).toBe(false);
    expect(await passwordWorks(f.target.root, s.pending!["password"]!)).toBe(true);

    const lease = await creds();
    expect(lease.status).toBe(200);
    const confirmed = await stored();
    expect(confirmed.pending).toBeNull();
    expect(confirmed.root["password"]).toBe(s.pending!["password"]);
    expect(await passwordWorks(f.target.root, confirmed.root["password"]!)).toBe(true);
    expect((await f.call("DELETE", `/v1/dynamic/leases/${lease.body.lease_id}`, f.admin)).body.status).toBe("revoked");
  });

  it("a failure before the target changed forgets the new secret and keeps the old one", async () => {
    const old = (await stored()).root["password"]!;
    fault = "before-change";
    const r = await rotate();
    expect(r.status).toBe(502);
    expect(r.body).toEqual({ error: "The target system refused to change the root password; the engine keeps its current one.", code: "rotation_failed" });
    const s = await stored();
    expect(s).toMatchObject({ pending: null, root: { password: old } });
    expect(await passwordWorks(f.target.root, old)).toBe(true);
    expect((await creds()).status).toBe(200);
  });

  it("a pending secret of a rotation still running refuses a second one (409); once stale it is dropped", async () => {
    const old = (await stored()).root["password"]!;
    // Another instance stored its pending secret and has not changed the target yet.
    const vault = createRootVault({ keys: createServerKeys({ prisma: f.c.db.prisma, masterKey: f.c.masterKey }), reader: {} as SecretReader });
    const [row] = await f.t.db.query<{ id: string }>("SELECT id FROM dynamic_engines WHERE name = 'support-db'");
    const pending = await vault.seal(row!.id, "root_pending", { username: f.target.root, password: "never-applied-password-xxxxxxxxxx" });
    await f.t.db.query("UPDATE dynamic_engines SET root_pending_cipher = $1, rotation_started_at = $2 WHERE id = $3", [pending, f.t.clock.now(), row!.id]);

    const busy = await rotate();
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe("rotation_in_progress");
    // Creds still work meanwhile, with the current root (the pending one does not log in).
    expect((await creds()).status).toBe(200);
    expect((await stored()).root["password"]).toBe(old);

    f.t.clock.advance(2 * f.t.config.LEASEHOLD_PROVIDER_TIMEOUT_MS + 1000);
    const r = await rotate();
    expect(r.status).toBe(200);
    const s = await stored();
    expect(s.pending).toBeNull();
    expect(s.root["password"]).not.toBe(old);
    expect(await passwordWorks(f.target.root, s.root["password"]!)).toBe(true);
  });

  it("errors: unknown engine 404; a revoke with the rotated root still works for every earlier lease", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines/nope/rotate-root", f.admin);
    expect([r.status, r.body.code]).toEqual([404, "engine_not_found"]);
    const revoked = await f.call("POST", "/v1/dynamic/leases/revoke-prefix", f.admin, { prefix: "lease_", engine: "support-db" });
    expect(revoked.body.pending).toBe(0);
    const left = await f.t.db.query("SELECT 1 FROM leases WHERE status NOT IN ('REVOKED', 'EXPIRED', 'CREATE_FAILED')");
    expect(left).toEqual([]);
  });
});
