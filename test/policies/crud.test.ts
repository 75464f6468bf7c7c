import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createServiceAccountWithToken, createUserWithToken, ISO, UUID } from "../management/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";

const PERMISSION_HINT = "must be one of read, list, manage, revoke, rotate, create, update, delete";

describe("/v1/policies/: create, read, replace, delete", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  const as = () => bearer(t.ownerToken);
  const policyRows = () => t.db.query(`SELECT name, rules FROM policies ORDER BY name`);

  async function create(name: string, rules: object[] = [{ path_pattern: "a/b", permissions: ["read"] }]) {
    const res = await t.http.post("/v1/policies/").set(as()).send({ name, rules });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string; rules: object[]; created_at: string; updated_at: string };
  }

  it("creates a policy (the API guide's example) and answers with it; slashes at the ends of patterns are dropped, permissions deduplicated", async () => {
    const res = await t.http
      .post("/v1/policies/")
      .set(as())
      .send({
        name: "dynamic-engine-pg-root",
        rules: [
          { path_pattern: "infra/postgres/support/root", permissions: ["read", "rotate"] },
          { path_pattern: "/dynamic/engines/*/roles/ro/", permissions: ["read", "read", "list"] },
        ],
      });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      name: "dynamic-engine-pg-root",
      rules: [
        { path_pattern: "infra/postgres/support/root", permissions: ["read", "rotate"] },
        { path_pattern: "dynamic/engines/*/roles/ro", permissions: ["read", "list"] },
      ],
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
    expect(await t.db.query(`SELECT id, rules FROM policies WHERE name = 'dynamic-engine-pg-root'`)).toEqual([
      { id: res.body.id, rules: res.body.rules },
    ]);

    const one = await t.http.get("/v1/policies/dynamic-engine-pg-root/").set(as());
    expect(one.status).toBe(200);
    expect(one.body).toEqual(res.body);

    await t.server.container.audit.flush();
    const events = await t.db.query(`SELECT user_id, metadata FROM audit_events WHERE event_type = 'policy.create'`);
    expect(events).toEqual([
      { user_id: expect.stringMatching(UUID), metadata: { policy: "dynamic-engine-pg-root", rules: res.body.rules } },
    ]);
  });

  it("refuses a duplicate name with 409, keeping the first policy's rules", async () => {
    await create("dup", [{ path_pattern: "x", permissions: ["read"] }]);
    const res = await t.http.post("/v1/policies/").set(as()).send({ name: "dup", rules: [{ path_pattern: "y", permissions: ["manage"] }] });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "A policy named 'dup' already exists." });
    expect(await t.db.query(`SELECT rules FROM policies WHERE name = 'dup'`)).toEqual([{ rules: [{ path_pattern: "x", permissions: ["read"] }] }]);
  });

  it("creates only one of concurrent same-name requests", async () => {
    const body = { name: "racer", rules: [{ path_pattern: "r", permissions: ["read"] }] };
    const results = await Promise.all([1, 2, 3].map(() => t.http.post("/v1/policies/").set(as()).send(body)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await t.db.query(`SELECT id FROM policies WHERE name = 'racer'`)).toHaveLength(1);
  });

  const ok = { path_pattern: "a", permissions: ["read"] };
  it.each([
    [{ rules: [ok] }, "Invalid body field 'name': is required"],
    [{ name: "", rules: [ok] }, "Invalid body field 'name': must not be empty"],
    [{ name: "has space", rules: [ok] }, "Invalid body field 'name': must start with a letter or digit and contain only letters, digits, '.', '_' and '-'"],
    [{ name: "-lead", rules: [ok] }, "Invalid body field 'name': must start with a letter or digit and contain only letters, digits, '.', '_' and '-'"],
    [{ name: "a/b", rules: [ok] }, "Invalid body field 'name': must start with a letter or digit and contain only letters, digits, '.', '_' and '-'"],
    [{ name: "x".repeat(65), rules: [ok] }, "Invalid body field 'name': must be at most 64 characters"],
    [{ name: 5, rules: [ok] }, "Invalid body field 'name': must be a string"],
    [{ name: "p" }, "Invalid body field 'rules': is required"],
    [{ name: "p", rules: [] }, "Invalid body field 'rules': must contain at least one rule"],
    [{ name: "p", rules: ok }, "Invalid body field 'rules': must be an array of rules"],
    [{ name: "p", rules: Array.from({ length: 101 }, () => ok) }, "Invalid body field 'rules': must contain at most 100 rules"],
    [{ name: "p", rules: ["a"] }, "Invalid body field 'rules.0': must be a JSON object"],
    [{ name: "p", rules: [{ permissions: ["read"] }] }, "Invalid body field 'rules.0.path_pattern': is required"],
    [{ name: "p", rules: [ok, { path_pattern: "", permissions: ["read"] }] }, "Invalid body field 'rules.1.path_pattern': must name a path (use '**' for every path)"],
    [{ name: "p", rules: [{ path_pattern: "a//b", permissions: ["read"] }] }, "Invalid body field 'rules.0.path_pattern': must not contain empty segments ('//')"],
    [{ name: "p", rules: [{ path_pattern: "a/b**", permissions: ["read"] }] }, "Invalid body field 'rules.0.path_pattern': may use '**' only as a whole segment"],
    [{ name: "p", rules: [{ path_pattern: "a/../b", permissions: ["read"] }] }, "Invalid body field 'rules.0.path_pattern': must not contain '.' or '..' segments"],
    [{ name: "p", rules: [{ path_pattern: "a?", permissions: ["read"] }] }, "Invalid body field 'rules.0.path_pattern': may only contain letters, digits, '.', '_', '-', ':', '@', '+', '=', '*' and '/'"],
    [{ name: "p", rules: [{ path_pattern: "a" }] }, "Invalid body field 'rules.0.permissions': is required"],
    [{ name: "p", rules: [{ path_pattern: "a", permissions: [] }] }, "Invalid body field 'rules.0.permissions': must name at least one permission"],
    [{ name: "p", rules: [{ path_pattern: "a", permissions: "read" }] }, "Invalid body field 'rules.0.permissions': must be an array of permissions"],
    [{ name: "p", rules: [{ path_pattern: "a", permissions: ["read", "write"] }] }, `Invalid body field 'rules.0.permissions.1': ${PERMISSION_HINT}`],
    [{ name: "p", rules: [{ path_pattern: "a", permissions: ["READ"] }] }, `Invalid body field 'rules.0.permissions.0': ${PERMISSION_HINT}`],
    [{ name: "p", rules: [{ path_pattern: "a", permissions: ["read"], effect: "deny" }] }, 'Invalid body field \'rules.0\': Unrecognized key: "effect"'],
    [{ name: "p", rules: [ok], description: "x" }, 'Invalid body: Unrecognized key: "description"'],
  ].map(([body, error]) => [error, body] as const))("400 %s; stores nothing", async (error, body) => {
    const before = await policyRows();
    const res = await t.http.post("/v1/policies/").set(as()).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
    expect(await policyRows()).toEqual(before);
  });

  it("lists policies by name; reads one; 404 for an unknown name", async () => {
    await create("zeta");
    await create("alpha.1");
    const list = await t.http.get("/v1/policies/").set(as());
    expect(list.status).toBe(200);
    const names = list.body.map((p: { name: string }) => p.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["zeta", "alpha.1"]));
    expect(list.body.find((p: { name: string }) => p.name === "zeta")).toEqual((await t.http.get("/v1/policies/zeta").set(as())).body);

    for (const name of ["nope", "ZETA", "%20"]) {
      const res = await t.http.get(`/v1/policies/${name}/`).set(as());
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: `Policy '${decodeURIComponent(name)}' not found` });
    }
  });

  it("PUT replaces the rules (name may be repeated, not changed); 400 leaves them; 404 for an unknown policy", async () => {
    const created = await create("replace-me", [{ path_pattern: "old", permissions: ["read"] }]);
    const rules = [{ path_pattern: "dynamic/engines/pg", permissions: ["manage"] }, { path_pattern: "dynamic/leases/**", permissions: ["revoke", "read"] }];
    const res = await t.http.put("/v1/policies/replace-me/").set(as()).send({ rules });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...created, rules, updated_at: expect.stringMatching(ISO) });
    expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));

    const same = await t.http.put("/v1/policies/replace-me").set(as()).send({ name: "replace-me", rules: [ok] });
    expect(same.status).toBe(200);
    expect(same.body.rules).toEqual([ok]);

    for (const [body, error] of [
      [{ name: "renamed", rules }, "Invalid body field 'name': must be the policy's name (policies cannot be renamed)"],
      [{ rules: [] }, "Invalid body field 'rules': must contain at least one rule"],
      [{ rules: [{ path_pattern: "a", permissions: ["sudo"] }] }, `Invalid body field 'rules.0.permissions.0': ${PERMISSION_HINT}`],
      [{}, "Invalid body field 'rules': is required"],
    ] as const) {
      const bad = await t.http.put("/v1/policies/replace-me/").set(as()).send(body);
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ error });
    }
    expect(await t.db.query(`SELECT rules FROM policies WHERE name = 'replace-me'`)).toEqual([{ rules: [ok] }]);

    const missing = await t.http.put("/v1/policies/missing/").set(as()).send({ rules });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Policy 'missing' not found" });
    expect(await t.db.query(`SELECT id FROM policies WHERE name = 'missing'`)).toEqual([]);
  });

  it("DELETE removes the policy and its bindings (204), then 404", async () => {
    await create("short-lived");
    const sa = await createServiceAccountWithToken(t, "short-lived-sa");
    expect((await t.http.post("/v1/policies/short-lived/bindings/").set(as()).send({ service_account_id: sa.id })).status).toBe(201);
    const res = await t.http.delete("/v1/policies/short-lived/").set(as());
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect(await t.db.query(`SELECT id FROM policies WHERE name = 'short-lived'`)).toEqual([]);
    expect(await t.db.query(`SELECT id FROM policy_bindings WHERE service_account_id = $1`, [sa.id])).toEqual([]);

    for (const req of [t.http.delete("/v1/policies/short-lived"), t.http.get("/v1/policies/short-lived/")]) {
      const again = await req.set(as());
      expect(again.status).toBe(404);
      expect(again.body).toEqual({ error: "Policy 'short-lived' not found" });
    }
  });

  it("every route: 401 without credentials, 403 for Developers and service accounts (before validation), open to Admins; with and without trailing slash", async () => {
    await create("guarded");
    const dev = await createUserWithToken(t, "dev@example.com", "Developer");
    const admin = await createUserWithToken(t, "admin@example.com", "Admin");
    const sa = await createServiceAccountWithToken(t, "guard-sa");
    const routes: [string, string, object?][] = [
      ["get", "/v1/policies/"],
      ["post", "/v1/policies/", { name: "" }],
      ["get", "/v1/policies/guarded/"],
      ["put", "/v1/policies/guarded/", { rules: [] }],
      ["delete", "/v1/policies/guarded/"],
      ["get", "/v1/policies/guarded/bindings/"],
      ["post", "/v1/policies/guarded/bindings/", { user_id: dev.id }],
      ["delete", "/v1/policies/guarded/bindings/", { user_id: dev.id }],
    ];
    const call = (method: string, path: string, body: object | undefined, auth?: string) => {
      let req = (t.http as unknown as Record<string, (p: string) => import("supertest").Test>)[method]!(path);
      if (auth !== undefined) req = req.set("Authorization", auth);
      return body ? req.send(body) : req;
    };
    const before = await t.db.query(`SELECT * FROM policies ORDER BY id`);
    for (const [method, slashed, body] of routes) {
      for (const path of [slashed, slashed.slice(0, -1)]) {
        const anon = await call(method, path, body);
        expect([method, path, anon.status, anon.body]).toEqual([method, path, 401, { error: "Authentication credentials were not provided." }]);
        for (const auth of [`Bearer ${dev.token}`, `Bearer User ${dev.token}`, `Bearer ${sa.token}`, `Bearer ServiceAccount ${sa.token}`]) {
          const res = await call(method, path, body, auth);
          expect([method, path, res.status, res.body]).toEqual([method, path, 403, { error: "This action requires an Owner or Admin user token." }]);
        }
      }
    }
    expect(await t.db.query(`SELECT * FROM policies ORDER BY id`)).toEqual(before);
    expect(await t.db.query(`SELECT * FROM policy_bindings`)).toEqual([]);

    // An Admin, plain or typed, with and without the slash.
    for (const [auth, path] of [[`Bearer ${admin.token}`, "/v1/policies/guarded/"], [`Bearer User ${admin.token}`, "/v1/policies/guarded"]] as const) {
      const res = await t.http.get(path).set("Authorization", auth);
      expect(res.status).toBe(200);
      expect(res.body.name).toBe("guarded");
    }
    const created = await t.http.post("/v1/policies").set(bearer(admin.token)).send({ name: "by-admin", rules: [ok] });
    expect(created.status).toBe(201);
    const bound = await t.http.post("/v1/policies/by-admin/bindings").set(bearer(admin.token)).send({ user_id: dev.id });
    expect(bound.status).toBe(201);
    const unbound = await t.http.delete(`/v1/policies/by-admin/bindings?user_id=${dev.id}`).set(bearer(admin.token));
    expect(unbound.status).toBe(204);
    expect((await t.http.delete("/v1/policies/by-admin").set(bearer(admin.token))).status).toBe(204);
  });
});
