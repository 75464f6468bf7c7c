import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV_CONTEXT_REQUIRED } from "../../src/auth/environment-context.js";
import { drainReaper, dynamicFixture, PHASE_TS, ROOT_PASSWORD, type DynamicFixture } from "./dynamic-helpers.js";

const ADMIN_ONLY = { error: "Only an Owner or Admin can manage dynamic secrets." };

describe("dynamic secret definitions over /v1/secrets/dynamic/ (ours: POST, PUT, DELETE; Phase: GET)", () => {
  let f: DynamicFixture;
  const countDefs = async () => (await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM dynamic_secrets"))[0]!.n;

  beforeAll(async () => {
    f = await dynamicFixture();
  });
  afterAll(async () => f?.close());

  it("POST creates (201) and answers Phase's shape without any config; durations as Django strings", async () => {
    const res = await f.call("POST", f.url(), f.owner.auth, {
      name: "billing",
      path: "/db/",
      description: "billing reader",
      provider: "postgresql",
      config: f.pgConfig(),
      key_map: [{ id: "password", key_name: "BILLING_PW" }],
      default_ttl: 86_400,
      max_ttl: 2 * 86_400 + 3 * 3600 + 4 * 60 + 5,
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual([
      "id", "name", "type", "description", "environment", "folder", "path", "defaultTtl", "maxTtl", "provider", "keyMap", "createdAt", "updatedAt", "deletedAt", "lease",
    ]);
    const [folder] = await f.t.db.query<{ id: string }>("SELECT id FROM folders WHERE environment_id = $1 AND path = '/db'", [f.envs["Development"]]);
    expect(res.body).toMatchObject({
      name: "billing",
      type: "dynamic",
      description: "billing reader",
      environment: f.envs["Development"],
      folder: folder!.id,
      path: "/db",
      defaultTtl: "1 00:00:00",
      maxTtl: "2 03:04:05",
      provider: "postgresql",
      deletedAt: null,
      lease: null,
    });
    expect(res.body.createdAt).toMatch(PHASE_TS);
    expect(res.body.keyMap).toEqual([
      { id: "password", keyName: "BILLING_PW", keyDigest: expect.stringMatching(/^[0-9a-f]{64}$/), masked: true },
      { id: "username", keyName: "DB_USERNAME", keyDigest: expect.stringMatching(/^[0-9a-f]{64}$/), masked: false },
      { id: "connection_url", keyName: "DATABASE_URL", keyDigest: expect.stringMatching(/^[0-9a-f]{64}$/), masked: true },
    ]);
    expect(res.text).not.toContain("config");
    expect(res.text).not.toContain("postgres@");
    const [row] = await f.t.db.query<{ default_ttl: number; max_ttl: number }>("SELECT default_ttl, max_ttl FROM dynamic_secrets WHERE id = $1", [res.body.id]);
    expect(row).toEqual({ default_ttl: 86_400, max_ttl: 183_845 });

    // GET shows the same object (Phase's filters: path normalised and exact, name exact, id).
    const filters: Record<string, string>[] = [{ path: "/db/" }, { name: "billing" }, { id: res.body.id }, { path: "db", name: "billing" }];
    for (const extra of filters) {
      const got = await f.call("GET", f.url("", extra), f.dev.auth);
      expect(got.status, JSON.stringify(extra)).toBe(200);
      expect(got.body).toEqual([res.body]);
    }
  });

  it("GET: 404 'No dynamic secrets found' when nothing matches; Phase's context errors", async () => {
    const none = { status: 404, body: { error: "No dynamic secrets found" } };
    const filters: Record<string, string>[] = [{ path: "/nowhere" }, { name: "Billing" }, { id: "00000000-0000-4000-8000-000000000000" }, { id: "not-a-uuid" }];
    for (const extra of filters) {
      expect(await f.call("GET", f.url("", extra), f.dev.auth), JSON.stringify(extra)).toMatchObject(none);
    }
    expect(await f.call("GET", f.url("", {}, "Production"), f.dev.auth)).toMatchObject({ status: 403, body: { error: "User cannot access this environment" } });
    expect(await f.call("GET", f.url("", {}, "Production"), f.sa.auth)).toMatchObject({ status: 401, body: { error: "Service account cannot access this environment" } });
    expect(await f.call("GET", f.url("", {}, "Production"), f.owner.auth)).toMatchObject(none);
    // No environment context: Phase crashes (500); we give its secrets view's 403.
    expect(await f.call("GET", "/v1/secrets/dynamic/", f.owner.auth)).toMatchObject({ status: 403, body: { error: ENV_CONTEXT_REQUIRED } });
    expect(await f.call("GET", `/v1/secrets/dynamic/?app_id=${f.appId}`, f.owner.auth)).toMatchObject({ status: 403, body: { error: ENV_CONTEXT_REQUIRED } });
    expect(await f.call("GET", `/v1/secrets/dynamic/?app_id=${f.appId}&env=Nope`, f.owner.auth)).toMatchObject({
      status: 404,
      body: { error: `Environment 'Nope' not found in App ${f.appId}` },
    });
    // camelCase query parameters work like Phase's (middleware).
    expect((await f.call("GET", `/v1/secrets/dynamic/?appId=${f.appId}&env=development&name=billing`, f.dev.auth)).status).toBe(200);
    expect(await f.call("GET", f.url(), "Bearer nope")).toMatchObject({ status: 401, body: { error: "Invalid token" } });
  });

  it("PATCH (and other methods) is Phase's 403 after authentication", async () => {
    expect(await f.call("PATCH", f.url(), f.dev.auth, {})).toMatchObject({ status: 403, body: { error: "Unsupported HTTP method: PATCH" } });
    expect((await f.call("PATCH", f.url(), "", {})).status).toBe(401);
  });

  it("only Owner/Admin users manage definitions: Developers and service accounts get 403 and nothing changes", async () => {
    const before = await countDefs();
    const body = { name: "x", provider: "postgresql", config: f.pgConfig(), default_ttl: 60, max_ttl: 60 };
    expect(await f.call("POST", f.url(), f.dev.auth, body)).toMatchObject({ status: 403, body: ADMIN_ONLY });
    expect(await f.call("POST", f.url(), f.sa.auth, body)).toMatchObject({ status: 403, body: ADMIN_ONLY });
    const def = await f.createPg({ name: "guarded" });
    expect(await f.call("PUT", f.url("", { id: def.id }), f.dev.auth, { description: "mine now" })).toMatchObject({ status: 403, body: ADMIN_ONLY });
    expect(await f.call("DELETE", f.url("", { id: def.id }), f.sa.auth)).toMatchObject({ status: 403, body: ADMIN_ONLY });
    expect(await countDefs()).toBe(before + 1);
    const [row] = await f.t.db.query<{ description: string; deleted_at: Date | null }>("SELECT description, deleted_at FROM dynamic_secrets WHERE id = $1", [def.id]);
    expect(row).toEqual({ description: "", deleted_at: null });
    // An Admin may (Admins reach every environment without a grant).
    const byAdmin = await f.call("POST", f.url(), f.admin.auth, { ...body, name: "by-admin", path: "/admin" });
    expect(byAdmin.status).toBe(201);
  });

  it("POST validation: Phase's body messages, then the service's with the client's field names; nothing stored", async () => {
    const before = await countDefs();
    const base = { name: "v", provider: "postgresql", config: f.pgConfig(), default_ttl: 3600, max_ttl: 7200 };
    const cases: [unknown, string][] = [
      ["", "Request body is required."],
      ["{nope", "Request body must be valid JSON."],
      ["[1]", "Request body must be a JSON object."],
      [{ ...base, provider: "mongodb" }, "Unknown provider 'mongodb'."],
      [{ ...base, default_ttl: 30 }, "Invalid default_ttl: must be at least 60 seconds"],
      [{ ...base, max_ttl: "7200" }, "Invalid max_ttl: Invalid input: expected number, received string"],
      [{ ...base, default_ttl: 7201 }, "default_ttl must not exceed max_ttl."],
      [{ ...base, name: "a/b" }, "Invalid name: must not contain '/'"],
      [{ ...base, key_map: [{ id: "nope", key_name: "X" }] }, "Unknown key_map id 'nope'; this provider outputs: username, password, connection_url."],
      [{ ...base, key_map: [{ id: "password" }] }, "Invalid key_map.0.key_name: Invalid input: expected string, received undefined"],
      [{ ...base, config: { ...f.pgConfig(), creation_statements: [] } }, "Invalid config: creation_statements: at least one statement is required"],
    ];
    for (const [body, error] of cases) {
      const res = await f.call("POST", f.url(), f.owner.auth, body);
      expect({ status: res.status, body: res.body }, JSON.stringify(body)).toEqual({ status: 400, body: { error } });
    }
    // A connection test that fails is reported without the root password.
    const broken = await f.call("POST", f.url(), f.owner.auth, { ...base, config: f.pgConfig({ connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:5432/no_such_db_here" }) });
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/^The connection test failed: .*no_such_db_here/);
    expect(await countDefs()).toBe(before);
  });

  it("a connection_url with a password written into it is refused: every lease holder would receive it as DATABASE_URL", async () => {
    const before = await countDefs();
    const base = { name: "inline", path: "/inline", provider: "postgresql", default_ttl: 3600, max_ttl: 7200 };
    const urls = [
      `postgresql://postgres:${ROOT_PASSWORD}@127.0.0.1:5432/${f.t.db.name}`,
      `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${f.t.db.name}?password=${ROOT_PASSWORD}`,
    ];
    for (const connection_url of urls) {
      const res = await f.call("POST", f.url(), f.owner.auth, { ...base, config: f.pgConfig({ connection_url }) });
      expect(res.status, connection_url).toBe(400);
      expect(res.body.error).toMatch(/^Invalid config: connection_url: must not contain a password/);
    }
    const def = await f.createPg({ name: "inline-put", path: "/inline" });
    const put = await f.call("PUT", f.url("", { id: def.id }), f.owner.auth, { config: f.pgConfig({ connection_url: urls[0] }) });
    expect(put.status).toBe(400);
    expect(await countDefs()).toBe(before + 1);
  });

  it("NUL characters in names, descriptions, paths and filters are 400s (or no match), never 500s; nothing stored", async () => {
    const before = await countDefs();
    const base = { name: "nul", path: "/nul", provider: "postgresql", config: f.pgConfig(), default_ttl: 3600, max_ttl: 7200 };
    for (const extra of [{ name: "a\u0000b" }, { description: "a\u0000b" }, { path: "/a\u0000b" }]) {
      const res = await f.call("POST", f.url(), f.owner.auth, { ...base, ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body.error, JSON.stringify(extra)).toMatch(/must not contain NUL characters/);
    }
    expect(await countDefs()).toBe(before);
    const def = await f.createPg({ name: "nul-put", path: "/nul" });
    for (const extra of [{ name: "a\u0000b" }, { description: "a\u0000b" }]) {
      const res = await f.call("PUT", f.url("", { id: def.id }), f.owner.auth, extra);
      expect(res.status, JSON.stringify(extra)).toBe(400);
    }
    for (const extra of [{ name: "a\u0000b" }, { path: "/a\u0000b" }] as Record<string, string>[]) {
      expect(await f.call("GET", f.url("", extra), f.dev.auth), JSON.stringify(extra)).toMatchObject({ status: 404, body: { error: "No dynamic secrets found" } });
    }
    const [row] = await f.t.db.query<{ name: string; description: string }>("SELECT name, description FROM dynamic_secrets WHERE id = $1", [def.id]);
    expect(row).toEqual({ name: "nul-put", description: "" });
  });

  it("PUT by id (query or body) updates; secret config kept when omitted; path/provider fixed; 404s", async () => {
    const def = await f.createPg({ name: "editable", path: "/edit" });
    const upd = await f.call("PUT", f.url("", { id: def.id }), f.owner.auth, { description: "now described", max_ttl: 86_400 });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ id: def.id, description: "now described", maxTtl: "1 00:00:00", defaultTtl: "01:00:00", path: "/edit", lease: null });
    const { password: _omitted, ...withoutPassword } = f.pgConfig();
    const byBody = await f.call("PUT", f.url(), f.owner.auth, { id: def.id, name: "edited", config: withoutPassword });
    expect(byBody).toMatchObject({ status: 200, body: { name: "edited" } });
    // The stored root password still works: a lease can be created.
    const leased = await f.call("GET", f.url("", { id: def.id, lease: "true" }), f.owner.auth);
    expect(leased.status).toBe(200);
    expect(leased.body[0].lease.status).toBe("active");

    expect(await f.call("PUT", f.url(), f.owner.auth, { description: "x" })).toMatchObject({ status: 400, body: { error: "id is required" } });
    expect(await f.call("PUT", f.url("", { id: def.id }), f.owner.auth, { path: "/elsewhere" })).toMatchObject({
      status: 400,
      body: { error: "'path' cannot be changed; delete the dynamic secret and create it again." },
    });
    expect(await f.call("PUT", f.url("", { id: def.id }), f.owner.auth, { default_ttl: 10 })).toMatchObject({ status: 400, body: { error: "Invalid default_ttl: must be at least 60 seconds" } });
    const notFound = { status: 404, body: { error: "Dynamic secret not found" } };
    expect(await f.call("PUT", f.url("", { id: "00000000-0000-4000-8000-000000000000" }), f.owner.auth, { description: "x" })).toMatchObject(notFound);
    // Another environment's definition is not found through this one.
    expect(await f.call("PUT", f.url("", { id: def.id }, "Production"), f.owner.auth, { description: "x" })).toMatchObject(notFound);
    expect(await f.call("DELETE", f.url("", { id: def.id }, "Production"), f.owner.auth)).toMatchObject(notFound);
  });

  it("DELETE by id removes the definition and revokes all its active leases (roles dropped)", async () => {
    const def = await f.createPg({ name: "doomed", path: "/doomed" });
    const a = await f.call("GET", f.url("", { id: def.id, lease: "true" }), f.dev.auth);
    const b = await f.call("GET", f.url("", { id: def.id, lease: "true" }), f.sa.auth);
    const roles = [a, b].map((r) => r.body[0].lease.credentials[0].value as string);
    expect((await f.rolesWithPrefix()).filter((r) => roles.includes(r))).toHaveLength(2);

    const del = await f.call("DELETE", f.url(), f.owner.auth, { id: def.id });
    expect(del).toMatchObject({ status: 200, body: { message: "Dynamic secret deleted; 2 active leases are being revoked" } });
    expect(await f.call("GET", f.url("", { id: def.id }), f.owner.auth)).toMatchObject({ status: 404, body: { error: "No dynamic secrets found" } });
    expect(await f.call("GET", f.url("leases/", { secret_id: def.id }), f.owner.auth)).toMatchObject({ status: 404, body: { error: "Secret not found" } });
    expect(await f.call("DELETE", f.url("", { id: def.id }), f.owner.auth)).toMatchObject({ status: 404, body: { error: "Dynamic secret not found" } });

    await drainReaper(f);
    expect((await f.rolesWithPrefix()).filter((r) => roles.includes(r))).toEqual([]);
    const rows = await f.t.db.query<{ status: string }>("SELECT status::text FROM leases WHERE dynamic_secret_id = $1", [def.id]);
    expect(rows).toEqual([{ status: "EXPIRED" }, { status: "EXPIRED" }]);
    expect(await f.call("DELETE", f.url(), f.owner.auth)).toMatchObject({ status: 400, body: { error: "id is required" } });
  });

  it("no response body ever contained the root password", () => {
    expect(f.bodies.length).toBeGreaterThan(20);
    for (const b of f.bodies) expect(b).not.toContain(ROOT_PASSWORD);
  });
});
