import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser, engineFixture, passwordWorks, readonlyRole, roleExists, supportDb, type EngineFixture } from "./helpers.js";

/** PostgreSQL timestamps in VALID UNTIL are written rounded up to the second. */
const wholeSecondUp = (ms: number) => Math.ceil(ms / 1000) * 1000;

/**
 * The ScaiVault guide's walkthrough (api-guides/dynamic-secrets), steps 2 to 7, each curl request
 * as written (our host, `Authorization: Bearer <token>` plain), against the local PostgreSQL as
 * the target: a scratch database owned by a real CREATEROLE root.
 */
describe("the dynamic secrets guide, end to end", () => {
  let f: EngineFixture;
  let t0: number;
  beforeAll(async () => {
    f = await engineFixture();
    t0 = f.t.clock.now().getTime();
  });
  afterAll(async () => f?.close());

  let lease: { lease_id: string; data: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

  it("2. configures the engine: the connection is tested, root credentials are sealed and never returned", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      name: "support-db",
      type: "database",
      config: { plugin: "postgresql", connection_url: f.target.connectionUrl },
      root_credentials_source: "inline",
      default_ttl: "1h",
      max_ttl: "24h",
      root_rotated_at: null,
      created_at: new Date(t0).toISOString(),
      updated_at: new Date(t0).toISOString(),
    });
    const [row] = await f.t.db.query<{ root_cipher: Buffer; provider: string }>("SELECT root_cipher, provider FROM dynamic_engines");
    expect(row!.provider).toBe("postgresql");
    expect(row!.root_cipher.toString("latin1")).not.toContain(f.target.rootPassword);
    expect((await f.call("GET", "/v1/dynamic/engines/support-db", f.admin)).body).toEqual(r.body);
    expect((await f.call("GET", "/v1/dynamic/engines", f.admin)).body).toEqual({ engines: [r.body] });
  });

  it("3. defines the role", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, readonlyRole(f.target.root));
    expect(r.status).toBe(201);
    const { name: _n, default_ttl: _d, max_ttl: _m, ...statements } = readonlyRole(f.target.root);
    expect(r.body).toEqual({
      name: "readonly",
      engine: "support-db",
      ...statements,
      default_ttl: "1h",
      max_ttl: "8h",
      created_at: new Date(t0).toISOString(),
      updated_at: new Date(t0).toISOString(),
    });
    expect((await f.call("GET", "/v1/dynamic/engines/support-db/roles/readonly", f.admin)).body).toEqual(r.body);
    expect((await f.call("GET", "/v1/dynamic/engines/support-db/roles", f.admin)).body).toEqual({ roles: [r.body] });
  });

  it("5. generates credentials that log in and read the tables", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, { ttl: "2h", metadata: { purpose: "nightly report" } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(["lease_id", "data", "lease_duration", "renewable", "expires_at"]);
    expect(r.body.lease_id).toMatch(/^lease_[0-9a-f-]{36}$/);
    const { username, password } = r.body.data;
    expect(username).toMatch(/^v_readonly_[a-z0-9]{16}$/);
    expect(r.body.data).toEqual({
      username,
      password,
      connection_url: `postgresql://${username}:${password}@127.0.0.1:5432/${f.target.db.name}`,
      host: "127.0.0.1",
      port: 5432,
      database: f.target.db.name,
    });
    expect(r.body.lease_duration).toBe("2h");
    expect(r.body.renewable).toBe(true);
    expect(r.body.expires_at).toBe(new Date(t0 + 2 * 3600_000).toISOString());
    lease = r.body;

    expect(await passwordWorks(username, password)).toBe(true);
    const rows = await asUser(f.target.db.name, username, password, async (c) => (await c.query("SELECT subject FROM tickets ORDER BY id")).rows);
    expect(rows).toEqual([{ subject: "printer on fire" }, { subject: "vpn down" }]);
    // The guide's VALID UNTIL '{{expiration}}': the lease's expiry plus the 5 s buffer.
    const [role] = await f.target.db.query<{ v: Date }>("SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1", [username]);
    expect(role!.v.getTime()).toBe(wholeSecondUp(t0 + 2 * 3600_000 + 5000));
  });

  it("lists and gets the lease (without its credential)", async () => {
    const r = await f.call("GET", `/v1/dynamic/leases/${lease.lease_id}`, f.admin);
    expect(r.status).toBe(200);
    const ownerId = (await f.t.db.query<{ id: string }>("SELECT id FROM users WHERE role = 'OWNER'"))[0]!.id;
    expect(r.body).toEqual({
      lease_id: lease.lease_id,
      engine: "support-db",
      role: "readonly",
      status: "active",
      renewable: true,
      lease_duration: "2h",
      ttl: 7200,
      issued_at: new Date(t0).toISOString(),
      expires_at: new Date(t0 + 7200_000).toISOString(),
      last_renewed_at: null,
      revoked_at: null,
      revoke_reason: null,
      username: lease.data["username"],
      metadata: { purpose: "nightly report" },
      owner: { type: "user", id: ownerId },
      phase_secret_id: null,
      last_error: null,
    });
    expect(r.text).not.toContain(lease.data["password"]);
    for (const q of ["", "?engine=support-db", "?engine=support-db&role=readonly&status=active"]) {
      const list = await f.call("GET", `/v1/dynamic/leases${q}`, f.admin);
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ leases: [r.body] });
    }
    expect((await f.call("GET", "/v1/dynamic/leases?status=revoked", f.admin)).body).toEqual({ leases: [] });
  });

  it("6. renews: the increment counts from now; the credential does not change", async () => {
    f.t.clock.advance(30 * 60_000);
    const r = await f.call("POST", `/v1/dynamic/leases/${lease.lease_id}/renew`, f.admin, { increment: "1h" });
    expect(r.status).toBe(200);
    const expires = t0 + 30 * 60_000 + 3600_000;
    expect(r.body).toMatchObject({ lease_id: lease.lease_id, status: "active", lease_duration: "1h", ttl: 3600, expires_at: new Date(expires).toISOString(), warnings: [] });
    expect(r.body.last_renewed_at).toBe(new Date(t0 + 30 * 60_000).toISOString());
    const [role] = await f.target.db.query<{ v: Date }>("SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1", [lease.data["username"]]);
    expect(role!.v.getTime()).toBe(wholeSecondUp(expires + 5000));
    expect(await passwordWorks(lease.data["username"], lease.data["password"])).toBe(true);
    const events = await f.t.db.query<{ event_type: string }>("SELECT event_type FROM lease_events ORDER BY id");
    expect(events.map((e) => e.event_type)).toEqual(["created", "renewed"]);
  });

  it("7. revokes early: the login then fails; a second DELETE answers the same", async () => {
    const r = await f.call("DELETE", `/v1/dynamic/leases/${lease.lease_id}`, f.admin);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ lease_id: lease.lease_id, status: "revoked", revoke_reason: "manual", renewable: false, revoked_at: f.t.clock.now().toISOString() });
    expect(await roleExists(lease.data["username"])).toBe(false);
    await expect(asUser(f.target.db.name, lease.data["username"], lease.data["password"], (c) => c.query("SELECT 1"))).rejects.toThrow(/role .* does not exist/);
    const again = await f.call("DELETE", `/v1/dynamic/leases/${lease.lease_id}`, f.admin);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(r.body);
    const events = await f.t.db.query<{ event_type: string }>("SELECT event_type FROM lease_events ORDER BY id");
    expect(events.map((e) => e.event_type)).toEqual(["created", "renewed", "revoke_requested", "revoked"]);
  });

  it("the context-manager pattern: creds with only a ttl, then DELETE", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, { ttl: "1h" });
    expect(r.status).toBe(200);
    expect(await roleExists(r.body.data.username)).toBe(true);
    expect((await f.call("DELETE", `/v1/dynamic/leases/${r.body.lease_id}`, f.admin)).status).toBe(200);
    expect(await roleExists(r.body.data.username)).toBe(false);
  });

  it("no response ever carried the root password", () => {
    for (const b of f.bodies) expect(b).not.toContain(f.target.rootPassword);
    expect(f.t.logs().join("\n")).not.toContain(f.target.rootPassword);
  });
});
