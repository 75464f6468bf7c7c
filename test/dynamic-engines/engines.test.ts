import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineFixture, readonlyRole, supportDb, type EngineFixture } from "./helpers.js";

/** Engines and roles: validation with codes, connection test, updates, access, deletion. */
describe("/v1/dynamic/engines and roles", () => {
  let f: EngineFixture;
  beforeAll(async () => {
    f = await engineFixture();
  });
  afterAll(async () => f?.close());

  const engines = async () => (await f.t.db.query<{ name: string }>("SELECT name FROM dynamic_engines ORDER BY name")).map((r) => r.name);

  it("refuses bad engines with 400 and the right code, and stores nothing", async () => {
    const good = supportDb(f.target);
    const cases: [unknown, string, RegExp][] = [
      [{ ...good, name: "bad name!" }, "invalid_request", /name must be 1-64 letters/],
      [{ ...good, type: "ldap" }, "invalid_config", /Unknown or unavailable engine type 'ldap'/],
      [{ ...good, config: { ...good.config, plugin: "mongodb" } }, "invalid_config", /Plugin 'mongodb' is not available on this server/],
      [{ ...good, config: { ...good.config, plugin: "aws" } }, "invalid_config", /Plugin 'aws' belongs to engines of type 'aws'/],
      [{ ...good, config: { plugin: "postgresql", connection_url: f.target.connectionUrl } }, "invalid_config", /need config.root_credentials or config.root_credentials_path/],
      [{ ...good, config: { ...good.config, root_credentials_path: "a/b/c" } }, "invalid_config", /not both/],
      [{ ...good, config: { ...good.config, root_credentials: { username: "x" } } }, "invalid_config", /Invalid config.root_credentials.password/],
      [{ ...good, config: { ...good.config, conection_url: "typo" } }, "invalid_config", /unknown field 'conection_url'/],
      [{ ...good, config: { ...good.config, connection_url: "mysql://{{username}}:{{password}}@h/db" } }, "invalid_config", /Invalid engine or role config: connection_url: must start with postgresql/],
      [{ ...good, config: { ...good.config, connection_url: "postgresql://admin:hunter2@127.0.0.1/db" } }, "invalid_config", /connection_url must not contain a password/],
      [{ ...good, config: { ...good.config, connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1/db?sslmode=disable&Password=hunter2" } }, "invalid_config", /connection_url must not contain a password/],
      [{ ...good, default_ttl: "5x" }, "invalid_ttl", /default_ttl must be a positive duration/],
      [{ ...good, max_ttl: "0" }, "invalid_ttl", /max_ttl must be a positive duration/],
      [{ ...good, default_ttl: "48h" }, "ttl_exceeds_max", /default_ttl \(48h\) exceeds its max_ttl \(24h\)/],
      [[1, 2], "invalid_request", /must be a JSON object/],
    ];
    for (const [body, code, message] of cases) {
      const r = await f.call("POST", "/v1/dynamic/engines", f.admin, body);
      expect([r.status, r.body.code], JSON.stringify(body)).toEqual([400, code]);
      expect(r.body.error).toMatch(message);
    }
    expect(await engines()).toEqual([]);
  });

  it("a failing connection test is 400 invalid_config with details, and nothing is stored", async () => {
    const wrong = supportDb(f.target, { config: { ...supportDb(f.target).config, root_credentials: { username: f.target.root, password: "not-it" } } });
    const r = await f.call("POST", "/v1/dynamic/engines", f.admin, wrong);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: `The connection test failed: PostgreSQL connection failed: password authentication failed for user "${f.target.root}" (28P01)`,
      code: "invalid_config",
      details: { plugin: "postgresql", reason: `PostgreSQL connection failed: password authentication failed for user "${f.target.root}" (28P01)` },
    });
    const unreachable = supportDb(f.target, { config: { ...supportDb(f.target).config, connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:1/x" } });
    const u = await f.call("POST", "/v1/dynamic/engines", f.admin, unreachable);
    expect([u.status, u.body.code]).toEqual([400, "invalid_config"]);
    expect(u.body.error).toMatch(/^The connection test failed: PostgreSQL connection test failed: .*ECONNREFUSED/);
    expect(u.text).not.toContain(f.target.rootPassword);
    expect(await engines()).toEqual([]);
  });

  it("creates, refuses a second engine of the same name, updates with PATCH and PUT", async () => {
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target))).status).toBe(201);
    const dup = await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target));
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ error: "An engine named 'support-db' already exists.", code: "engine_exists" });

    const patched = await f.call("PATCH", "/v1/dynamic/engines/support-db", f.admin, { default_ttl: "30m" });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ default_ttl: "30m", max_ttl: "24h", root_credentials_source: "inline" });
    // A wrong root password is refused by the connection test; the stored one stays.
    const badRoot = await f.call("PATCH", "/v1/dynamic/engines/support-db", f.admin, { config: { root_credentials: { username: f.target.root, password: "nope" } } });
    expect([badRoot.status, badRoot.body.code]).toEqual([400, "invalid_config"]);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, readonlyRole(f.target.root))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, {})).status).toBe(200);

    // Pointing the engine elsewhere without giving root credentials again is refused before any
    // connection: the stored root password is never sent to a host it was not given for.
    const contacted: string[] = [];
    const trap = createServer((sock) => (contacted.push("connection"), sock.destroy()));
    await new Promise<void>((r) => trap.listen(0, "127.0.0.1", r));
    const trapUrl = `postgresql://{{username}}:{{password}}@127.0.0.1:${(trap.address() as AddressInfo).port}/db`;
    const moved = await f.call("PATCH", "/v1/dynamic/engines/support-db", f.admin, { config: { connection_url: trapUrl } });
    expect(moved.status).toBe(400);
    expect(moved.body).toEqual({ error: "Changing the connection settings requires config.root_credentials or config.root_credentials_path again.", code: "invalid_config" });
    await new Promise((r) => trap.close(r));
    expect(contacted).toEqual([]);

    const put = await f.call("PUT", "/v1/dynamic/engines/support-db", f.admin, { config: { plugin: "postgresql", connection_url: f.target.connectionUrl }, max_ttl: "12h" });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ default_ttl: "1h", max_ttl: "12h", root_credentials_source: "inline" });
    for (const [body, code] of [
      [{ name: "other" }, "invalid_request"],
      [{ type: "aws" }, "invalid_config"],
      [{ config: { plugin: "mysql" } }, "invalid_config"],
    ] as const) {
      const r = await f.call("PATCH", "/v1/dynamic/engines/support-db", f.admin, body);
      expect([r.status, r.body.code]).toEqual([400, code]);
    }
    const missing = await f.call("PATCH", "/v1/dynamic/engines/nope", f.admin, { default_ttl: "1h" });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Engine 'nope' not found.", code: "engine_not_found" });
  });

  it("roles: validation and lookups with codes", async () => {
    const role = readonlyRole(f.target.root);
    const cases: [string, unknown, number, string, RegExp][] = [
      ["support-db", { ...role, name: "readonly" }, 409, "role_exists", /Role 'readonly' already exists in engine 'support-db'/],
      ["support-db", { ...role, name: "long", max_ttl: "48h" }, 400, "ttl_exceeds_max", /max_ttl \(48h\) exceeds the engine's max_ttl \(12h\)/],
      ["support-db", { ...role, name: "slow", default_ttl: "9h" }, 400, "ttl_exceeds_max", /default_ttl \(9h\) exceeds its max_ttl \(8h\)/],
      ["support-db", { ...role, name: "noname", creation_statements: ["SELECT 1"] }, 400, "invalid_config", /creation_statements: must use \{\{name\}\}/],
      ["support-db", { ...role, name: "typo", policy_arns: [] }, 400, "invalid_config", /unknown field 'policy_arns'/],
      ["support-db", { ...role, name: "vars", revocation_statements: ["DROP ROLE {{password}}"] }, 400, "invalid_config", /revocation_statements/],
      ["nope", role, 404, "engine_not_found", /Engine 'nope' not found/],
    ];
    for (const [engine, body, status, code, message] of cases) {
      const r = await f.call("POST", `/v1/dynamic/engines/${engine}/roles`, f.admin, body);
      expect([r.status, r.body.code], JSON.stringify(body)).toEqual([status, code]);
      expect(r.body.error).toMatch(message);
    }
    const unknown = await f.call("GET", "/v1/dynamic/engines/support-db/roles/nope", f.admin);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: "Role 'nope' not found in engine 'support-db'.", code: "role_not_found" });
    const creds = await f.call("POST", "/v1/dynamic/engines/support-db/creds/nope", f.admin, {});
    expect([creds.status, creds.body.code]).toEqual([404, "role_not_found"]);
    const creds2 = await f.call("POST", "/v1/dynamic/engines/nope/creds/readonly", f.admin, {});
    expect([creds2.status, creds2.body.code]).toEqual([404, "engine_not_found"]);

    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, { ...role, name: "temp" })).status).toBe(201);
    expect((await f.call("DELETE", "/v1/dynamic/engines/support-db/roles/temp", f.admin)).body).toEqual({ engine: "support-db", role: "temp", deleted: true });
    expect((await f.call("DELETE", "/v1/dynamic/engines/support-db/roles/temp", f.admin)).body.code).toBe("role_not_found");
  });

  it("NUL characters in names, filters and metadata are 4xx with codes, never 500s; nothing is created", async () => {
    const leases = async () => (await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM leases"))[0]!.n;
    const before = await leases();
    const cases: [string, string, unknown, number, string][] = [
      ["GET", "/v1/dynamic/engines/a%00b", undefined, 404, "engine_not_found"],
      ["GET", "/v1/dynamic/engines/support-db/roles/a%00b", undefined, 404, "role_not_found"],
      ["DELETE", "/v1/dynamic/engines/support-db/roles/a%00b", undefined, 404, "role_not_found"],
      ["POST", "/v1/dynamic/engines/support-db/creds/a%00b", {}, 404, "role_not_found"],
      ["POST", "/v1/dynamic/engines/support-db/creds/readonly", { metadata: { ticket: "a\u0000b" } }, 400, "invalid_request"],
      ["POST", "/v1/dynamic/engines/support-db/creds/readonly", { metadata: { "a\u0000": "b" } }, 400, "invalid_request"],
      ["GET", "/v1/dynamic/leases?engine=a%00b", undefined, 404, "engine_not_found"],
      ["GET", "/v1/dynamic/leases?role=a%00b", undefined, 400, "invalid_request"],
      ["POST", "/v1/dynamic/leases/revoke-prefix", { prefix: "lease_", engine: "a\u0000b" }, 404, "engine_not_found"],
      ["POST", "/v1/dynamic/leases/revoke-prefix", { prefix: "lease_", engine: "support-db", role: "a\u0000b" }, 400, "invalid_request"],
    ];
    for (const [method, url, body, status, code] of cases) {
      const r = await f.call(method as "GET", url, f.admin, body);
      expect([r.status, r.body.code], `${method} ${url} ${JSON.stringify(body)}`).toEqual([status, code]);
    }
    expect(await leases()).toBe(before);
  });

  it("authentication and access: 401 and 403 carry codes; listing shows what the caller may read", async () => {
    const none = await f.t.http.get("/v1/dynamic/engines");
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: "Authentication credentials were not provided.", code: "unauthorized" });
    const typed = await f.t.http.get("/v1/dynamic/engines").set("Authorization", `Bearer User ${f.admin}`);
    expect(typed.status).toBe(200);
    const sa = await f.serviceAccount();
    for (const [method, path, body] of [
      ["POST", "/v1/dynamic/engines", supportDb(f.target, { name: "sa-db" })],
      ["GET", "/v1/dynamic/engines/support-db", undefined],
      ["PATCH", "/v1/dynamic/engines/support-db", { default_ttl: "1h" }],
      ["DELETE", "/v1/dynamic/engines/support-db", undefined],
      ["POST", "/v1/dynamic/engines/support-db/rotate-root", undefined],
      ["POST", "/v1/dynamic/engines/support-db/roles", readonlyRole(f.target.root)],
      ["POST", "/v1/dynamic/engines/support-db/creds/readonly", {}],
    ] as const) {
      const r = await f.call(method, path, sa.token, body);
      expect([r.status, r.body.code], `${method} ${path}`).toEqual([403, "permission_denied"]);
    }
    expect((await f.call("GET", "/v1/dynamic/engines", sa.token)).body).toEqual({ engines: [] });
    expect((await f.call("GET", "/v1/dynamic/leases", sa.token)).body).toEqual({ leases: [] });
    expect(await engines()).toEqual(["support-db"]);
  });

  it("audits engine and role changes (never a credential)", async () => {
    await f.c.audit.flush();
    const rows = await f.t.db.query<{ event_type: string; metadata: Record<string, unknown> }>(
      "SELECT event_type, metadata FROM audit_events WHERE event_type LIKE 'engine.%' ORDER BY id",
    );
    expect(rows.map((r) => r.event_type)).toEqual(["engine.create", "engine.update", "engine.role.create", "engine.update", "engine.role.create", "engine.role.delete"]);
    expect(JSON.stringify(rows)).not.toContain(f.target.rootPassword);
  });

  it("DELETE revokes the engine's leases first, then removes it and its roles; a lease it cannot revoke keeps it (409)", async () => {
    const live = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, {});
    // The target refuses the engine's root meanwhile: nothing can be revoked, so nothing is deleted.
    await f.target.db.query(`ALTER ROLE "${f.target.root}" PASSWORD 'changed-elsewhere'`);
    const refused = await f.call("DELETE", "/v1/dynamic/engines/support-db", f.admin);
    await f.target.db.query(`ALTER ROLE "${f.target.root}" PASSWORD '${f.target.rootPassword}'`);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: "The engine still has 2 leases being revoked; try DELETE again once they are gone.",
      code: "engine_has_leases",
      details: { pending_leases: 2 },
    });
    expect(await engines()).toEqual(["support-db"]);
    const failed = await f.t.db.query<{ status: string; attempts: number }>("SELECT status::text, attempts FROM leases ORDER BY created_at");
    expect(failed).toEqual([{ status: "REVOKE_FAILED", attempts: 1 }, { status: "REVOKE_FAILED", attempts: 1 }]);

    const r = await f.call("DELETE", "/v1/dynamic/engines/support-db", f.admin);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ engine: "support-db", deleted: true, revoked_leases: 2 });
    expect(await engines()).toEqual([]);
    expect(await f.t.db.query("SELECT 1 FROM dynamic_roles")).toEqual([]);
    const leases = await f.t.db.query<{ status: string; revoke_reason: string; engine_id: string | null }>("SELECT status::text, revoke_reason, engine_id FROM leases");
    expect(leases).toEqual([
      { status: "REVOKED", revoke_reason: "engine_revoke", engine_id: null },
      { status: "REVOKED", revoke_reason: "engine_revoke", engine_id: null },
    ]);
    const roles = await f.target.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [live.body.data.username]);
    expect(roles).toEqual([]);
    expect((await f.call("GET", "/v1/dynamic/engines/support-db", f.admin)).status).toBe(404);
  });
});
