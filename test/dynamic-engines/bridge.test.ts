import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser, engineFixture, passwordWorks, readonlyRole, roleExists, supportDb, type EngineFixture } from "./helpers.js";

/**
 * A Phase dynamic secret backed by an engine role (`"provider": "engine"`): leased through Phase's
 * GET /v1/secrets/?dynamic=true&lease=true with the engine's current root credentials, and
 * visible (and revocable) on /v1/dynamic/ as the engine's lease.
 */
describe("Phase dynamic secrets backed by an engine role", () => {
  let f: EngineFixture;
  let appId: string;
  let sa: { id: string; auth: string };
  let secretId: string;
  const q = (extra: Record<string, string> = {}) => new URLSearchParams({ app_id: appId, env: "Development", ...extra }).toString();
  const phase = async (method: "GET" | "POST" | "PUT", path: string, auth: string, body?: unknown) => {
    let r = f.t.http[method.toLowerCase() as "get"](path).set("Authorization", auth);
    if (body !== undefined) r = r.set("Content-Type", "application/json").send(JSON.stringify(body));
    const res = await r;
    return { status: res.status, body: res.body, text: res.text };
  };
  const owner = () => `Bearer User ${f.admin}`;
  const definition = (extra: Record<string, unknown> = {}) => ({
    name: "support-reader",
    path: "/db",
    provider: "engine",
    config: { engine: "support-db", role: "readonly" },
    default_ttl: 3600,
    max_ttl: 7200,
    ...extra,
  });

  beforeAll(async () => {
    f = await engineFixture();
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, readonlyRole(f.target.root))).status).toBe(201);
    const app = await f.c.appService.createApp("support", ["Development", "Production"]);
    appId = app.id;
    const account = await f.c.identityService.createServiceAccount("reporting-service");
    await f.c.identityService.grantAccess({ kind: "SERVICE_ACCOUNT", id: account.id }, appId, ["Development"]);
    const tok = await f.c.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: account.id }, "t");
    sa = { id: account.id, auth: `Bearer ServiceAccount ${tok.token}` };
  });
  afterAll(async () => f?.close());

  it("is defined with provider 'engine' and the two names; bad references are refused", async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [definition({ config: { engine: "nope", role: "readonly" } }), 404, /Engine 'nope' not found/],
      [definition({ config: { engine: "support-db", role: "nope" } }), 404, /Role 'nope' not found in engine 'support-db'/],
      [definition({ config: { engine: "support-db", role: "readonly", password: "x" } }), 400, /only 'engine' and 'role' are allowed/],
      [definition({ max_ttl: 36_000 }), 400, /max_ttl must not exceed the engine role's max_ttl \(28800 seconds\)/],
    ];
    for (const [body, status, message] of cases) {
      const r = await phase("POST", `/v1/secrets/dynamic/?${q()}`, owner(), body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error).toMatch(message);
    }
    const r = await phase("POST", `/v1/secrets/dynamic/?${q()}`, owner(), definition());
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: "support-reader", provider: "engine", path: "/db" });
    expect(r.body.keyMap.map((k: { keyName: string }) => k.keyName)).toEqual(["DB_USERNAME", "DB_PASSWORD", "DATABASE_URL"]);
    secretId = r.body.id;
    // The definition stores only the names: no root credential is sealed into it.
    const rows = await f.t.db.query<{ provider: string }>("SELECT provider FROM dynamic_secrets");
    expect(rows).toEqual([{ provider: "engine" }]);
  });

  it("GET /v1/secrets/?dynamic=true&lease=true leases working credentials, recorded against the engine and role", async () => {
    const r = await phase("GET", `/v1/secrets/?${q({ dynamic: "true", lease: "true" })}`, sa.auth);
    expect(r.status).toBe(200);
    const [dyn] = r.body.filter((s: { type: string }) => s.type === "dynamic");
    expect(dyn.lease).toMatchObject({ status: "active", ttl: "01:00:00", secret: secretId, owner: { type: "service_account", data: { id: sa.id } } });
    const creds = Object.fromEntries(dyn.lease.credentials.map((c: { key: string; value: string }) => [c.key, c.value]));
    expect(creds["DB_USERNAME"]).toMatch(/^v_readonly_[a-z0-9]{16}$/);
    expect(creds["DATABASE_URL"]).toBe(`postgresql://${creds["DB_USERNAME"]}:${creds["DB_PASSWORD"]}@127.0.0.1:5432/${f.target.db.name}`);
    expect(await passwordWorks(creds["DB_USERNAME"], creds["DB_PASSWORD"])).toBe(true);
    const rows = await asUser(f.target.db.name, creds["DB_USERNAME"], creds["DB_PASSWORD"], async (c) => (await c.query("SELECT count(*)::int AS n FROM tickets")).rows);
    expect(rows).toEqual([{ n: 2 }]);

    const leases = await f.call("GET", "/v1/dynamic/leases?engine=support-db&role=readonly", f.admin);
    expect(leases.body.leases).toHaveLength(1);
    expect(leases.body.leases[0]).toMatchObject({ lease_id: `lease_${dyn.lease.id}`, engine: "support-db", role: "readonly", phase_secret_id: secretId, status: "active" });
    // Phase's own renewal of it (its definition's max_ttl bounds it).
    const renewed = await phase("PUT", `/v1/secrets/dynamic/leases/?${q()}`, sa.auth, { lease_id: dyn.lease.id, ttl: 600 });
    expect(renewed.status).toBe(200);
  });

  it("leases minted after a root rotation use the engine's new root; revoke-prefix reaches Phase's leases too", async () => {
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/rotate-root", f.admin)).status).toBe(200);
    expect(await passwordWorks(f.target.root, f.target.rootPassword)).toBe(false);
    const r = await phase("GET", `/v1/secrets/?${q({ dynamic: "true", lease: "true", lease_ttl: "600" })}`, sa.auth);
    expect(r.status).toBe(200);
    const usernames = (await f.t.db.query<{ upstream_identity: string }>("SELECT upstream_identity FROM leases WHERE status = 'ACTIVE'")).map((l) => l.upstream_identity);
    expect(usernames).toHaveLength(2);
    for (const u of usernames) expect(await roleExists(u)).toBe(true);

    const revoked = await f.call("POST", "/v1/dynamic/leases/revoke-prefix", f.admin, { prefix: "lease_", engine: "support-db" });
    expect(revoked.body).toEqual({ engine: "support-db", prefix: "lease_", revoked: 2, requested: 2, pending: 0 });
    for (const u of usernames) expect(await roleExists(u)).toBe(false);
    const phaseView = await phase("GET", `/v1/secrets/dynamic/leases/?${q({ secret_id: secretId })}`, sa.auth);
    expect(phaseView.body.map((l: { status: string }) => l.status)).toEqual(["revoked", "revoked"]);
  });
});
