import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgTimestamp } from "../../src/providers/postgresql.js";
import { connectAs, scramVerifies } from "../providers/pg-helpers.js";
import { dynamicFixture, PHASE_TS, ROOT_PASSWORD, type DynamicFixture } from "./dynamic-helpers.js";

const UA = { "User-Agent": "phase-golang-sdk/2.4.1" };

async function canQuery(f: DynamicFixture, user: string, password: string): Promise<string> {
  const c = await connectAs(user, password, f.t.db.name);
  try {
    const { rows } = await c.query<{ who: string; n: number }>("SELECT current_user AS who, count(*)::int AS n FROM reports");
    return `${rows[0]!.who}:${rows[0]!.n}`;
  } finally {
    await c.end();
  }
}

async function validUntil(f: DynamicFixture, role: string): Promise<string | undefined> {
  const [r] = await f.t.db.query<{ valid: string }>(
    "SELECT to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00' AS valid FROM pg_roles WHERE rolname = $1",
    [role],
  );
  return r?.valid;
}

/**
 * The four calls phasehq/golang-sdk (network.go) makes, exactly as it sends them, under
 * /service/public/v1/ with a service account token, against a real PostgreSQL target.
 */
describe("golang-sdk dynamic secret calls against the PostgreSQL provider", () => {
  let f: DynamicFixture;
  let secretId: string;
  const issued: string[] = [];

  beforeAll(async () => {
    f = await dynamicFixture();
    secretId = (await f.createPg({ name: "reports-reader", default_ttl: 3600, max_ttl: 7200 })).id;
  });
  afterAll(async () => f?.close());

  it("generate, list, renew, revoke: Phase's shapes and the role's lifecycle in PostgreSQL", async () => {
    // 1. Generate a lease: GET …/dynamic/?app_id&env&id=<secretId>&lease=true&ttl=120
    const gen = await f.call("GET", f.url("", { id: secretId, lease: "true", ttl: "120" }), f.sa.auth, undefined, UA);
    expect(gen.status).toBe(200);
    expect(gen.body).toHaveLength(1);
    const [secret] = gen.body;
    expect(Object.keys(secret)).toEqual([
      "id", "name", "type", "description", "environment", "folder", "path", "defaultTtl", "maxTtl", "provider", "keyMap", "createdAt", "updatedAt", "deletedAt", "lease",
    ]);
    expect(secret).toMatchObject({
      id: secretId,
      name: "reports-reader",
      type: "dynamic",
      description: "",
      environment: f.envs["Development"],
      folder: null,
      path: "/",
      defaultTtl: "01:00:00",
      maxTtl: "02:00:00",
      provider: "postgresql",
      deletedAt: null,
    });
    expect(secret.keyMap.map((k: { id: string; keyName: string; masked: boolean }) => [k.id, k.keyName, k.masked])).toEqual([
      ["username", "DB_USERNAME", false],
      ["password", "DB_PASSWORD", true],
      ["connection_url", "DATABASE_URL", true],
    ]);
    const lease = secret.lease;
    expect(Object.keys(lease)).toEqual([
      "id", "name", "description", "secret", "ttl", "status", "owner", "credentials", "createdAt", "renewedAt", "expiresAt", "revokedAt", "deletedAt",
    ]);
    expect(lease).toMatchObject({ name: "reports-reader", description: "", secret: secretId, ttl: "00:02:00", status: "active", renewedAt: null, revokedAt: null, deletedAt: null });
    expect(lease.owner).toEqual({ type: "service_account", data: { id: f.sa.id, name: expect.stringMatching(/^bot-/), role: null } });
    expect(lease.createdAt).toMatch(PHASE_TS);
    expect(Date.parse(lease.expiresAt) - Date.parse(lease.createdAt)).toBe(120_000);
    expect(lease.credentials.map((c: { key: string }) => c.key)).toEqual(["DB_USERNAME", "DB_PASSWORD", "DATABASE_URL"]);
    const [user, password, url] = lease.credentials.map((c: { value: string }) => c.value) as [string, string, string];
    issued.push(password);
    expect(url).toBe(`postgresql://${user}:${password}@127.0.0.1:5432/${f.t.db.name}`);

    // The role exists, logs in and reads what it was granted; its password is the one returned.
    expect(await canQuery(f, user, password)).toBe(`${user}:0`);
    const [auth] = await f.t.db.query<{ rolpassword: string; rolcanlogin: boolean }>("SELECT rolpassword, rolcanlogin FROM pg_authid WHERE rolname = $1", [user]);
    expect(auth!.rolcanlogin).toBe(true);
    expect(scramVerifies(auth!.rolpassword, password)).toBe(true);
    const expires = new Date(Date.parse(lease.expiresAt));
    expect(await validUntil(f, user)).toBe(pgTimestamp(new Date(expires.getTime() + 5_000)));

    // 2. List leases: GET …/leases/?app_id&env&secret_id=
    const listed = await f.call("GET", f.url("leases/", { secret_id: secretId }), f.sa.auth, undefined, UA);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([{ ...lease, credentials: [] }]);

    // 3. Renew: PUT …/leases/?app_id&env with {"lease_id","ttl"}
    f.t.clock.advance(30_000);
    const renewed = await f.call("PUT", f.url("leases/"), f.sa.auth, { lease_id: lease.id, ttl: 600 }, UA);
    const newExpiry = new Date(expires.getTime() + 600_000);
    const micros = String(newExpiry.getUTCMilliseconds() * 1000).padStart(6, "0");
    const python = `${newExpiry.toISOString().slice(0, 10)} ${newExpiry.toISOString().slice(11, 19)}${newExpiry.getUTCMilliseconds() ? `.${micros}` : ""}+00:00`;
    expect(renewed).toMatchObject({ status: 200, body: { message: `Lease renewed successfully. Updated expiry: ${python}` } });
    expect(await validUntil(f, user)).toBe(pgTimestamp(new Date(newExpiry.getTime() + 5_000)));
    const [row] = await f.t.db.query<{ ttl_seconds: number; expires_at: Date; renewed_at: Date }>("SELECT ttl_seconds, expires_at, renewed_at FROM leases WHERE id = $1", [lease.id]);
    expect(row).toEqual({ ttl_seconds: 720, expires_at: newExpiry, renewed_at: f.t.clock.now() });
    const afterRenew = (await f.call("GET", f.url("leases/", { secret_id: secretId }), f.sa.auth)).body[0];
    expect(afterRenew).toMatchObject({ ttl: "00:12:00", status: "active", expiresAt: `${newExpiry.toISOString().slice(0, -1)}000Z` });
    expect(afterRenew.renewedAt).toBe(`${f.t.clock.now().toISOString().slice(0, -1)}000Z`);

    // 4. Revoke: DELETE …/leases/?app_id&env with {"lease_id"}
    const revoked = await f.call("DELETE", f.url("leases/"), f.sa.auth, { lease_id: lease.id }, UA);
    expect(revoked).toMatchObject({ status: 200, body: { message: "Lease revoked successfully" } });
    expect(await f.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [user])).toEqual([]);
    await expect(canQuery(f, user, password)).rejects.toThrow(/does not exist|authentication failed/);
    const again = await f.call("DELETE", f.url("leases/"), f.sa.auth, { lease_id: lease.id }, UA);
    expect(again).toMatchObject({ status: 200, body: { message: "Lease was already revoked" } });
    const final = (await f.call("GET", f.url("leases/", { secret_id: secretId }), f.sa.auth)).body[0];
    expect(final).toMatchObject({ status: "revoked", revokedAt: `${f.t.clock.now().toISOString().slice(0, -1)}000Z`, credentials: [] });

    // The lease's audit trail: the service account, its IP and user agent on every transition.
    const events = await f.t.db.query<{ event_type: string; service_account_id: string; ip_address: string; user_agent: string }>(
      "SELECT event_type, service_account_id, ip_address, user_agent FROM lease_events WHERE lease_id = $1 ORDER BY id",
      [lease.id],
    );
    expect(events.map((e) => e.event_type)).toEqual(["created", "renewed", "revoke_requested", "revoked"]);
    for (const e of events) expect(e).toMatchObject({ service_account_id: f.sa.id, ip_address: "127.0.0.1", user_agent: UA["User-Agent"] });
  });

  it("the other three prefixes reach the same views", async () => {
    for (const base of ["", "/public", "/service"]) {
      const res = await f.call("GET", f.url("", { id: secretId }, "Development", base), f.sa.auth);
      expect(res.status, base).toBe(200);
      expect(res.body.map((s: { id: string; lease: unknown }) => [s.id, s.lease])).toEqual([[secretId, null]]);
      const leases = await f.call("GET", `${base}/v1/secrets/dynamic/leases/?secret_id=${secretId}`, f.sa.auth);
      expect(leases.status, base).toBe(200);
    }
    // Trailing slash mandatory.
    expect((await f.call("GET", `/service/public/v1/secrets/dynamic?app_id=${f.appId}&env=Development`, f.sa.auth)).status).toBe(404);
    expect((await f.call("GET", `/service/public/v1/secrets/dynamic/leases?secret_id=${secretId}`, f.sa.auth)).status).toBe(404);
  });

  it("no response body ever contained the root password; no log line the root or a lease password", () => {
    expect(f.bodies.length).toBeGreaterThan(5);
    for (const b of f.bodies) expect(b).not.toContain(ROOT_PASSWORD);
    expect(issued).toHaveLength(1);
    for (const l of f.t.logs()) {
      expect(l).not.toContain(ROOT_PASSWORD);
      expect(l).not.toContain(issued[0]);
    }
  });
});
