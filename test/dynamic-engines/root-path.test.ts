import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAdmin } from "../../src/auth/principal.js";
import type { AccessPolicies } from "../../src/policies/access.js";
import { engineFixture, passwordWorks, readonlyRole, roleExists, type EngineFixture } from "./helpers.js";

/**
 * root_credentials_path: the engine's root credentials are a Leasehold secret (JSON
 * {"username","password"}), named `app/env/path/KEY` (the guide's "infra/postgres/support/root":
 * app infra, environment postgres, folder /support, key ROOT: keys are stored upper-cased) or
 * `${app::env./path/KEY}`, and read
 * at each use: updating the secret changes what the engine connects with.
 */
describe("engines with root_credentials_path", () => {
  let f: EngineFixture;
  let appId: string;
  const owner = () => `Bearer User ${f.admin}`;
  const secretsUrl = () => `/v1/secrets/?app_id=${appId}&env=postgres`;
  const engine = (name: string, path: string) => ({
    name,
    type: "database",
    config: { plugin: "postgresql", connection_url: f.target.connectionUrl, root_credentials_path: path },
    default_ttl: "1h",
    max_ttl: "24h",
  });

  async function setRoot(value: string): Promise<void> {
    const list = await f.t.http.get(`${secretsUrl()}&path=/support`).set("Authorization", owner());
    const existing = (list.body as { id: string; key: string }[]).find((s) => s.key === "ROOT");
    const res = existing
      ? await f.t.http.put(secretsUrl()).set("Authorization", owner()).send({ secrets: [{ id: existing.id, value }] })
      : await f.t.http.post(secretsUrl()).set("Authorization", owner()).send({ secrets: [{ key: "root", value, path: "/support" }] });
    expect(res.status).toBe(200);
  }
  const rootJson = (password: string) => JSON.stringify({ username: f.target.root, password });

  beforeAll(async () => {
    f = await engineFixture();
    appId = (await f.c.appService.createApp("infra", ["postgres"])).id;
    await setRoot(rootJson(f.target.rootPassword));
  });
  afterAll(async () => f?.close());

  it("the guide's path form and the reference form both name the secret", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines", f.admin, engine("support-db", "infra/postgres/support/root"));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ config: { plugin: "postgresql", root_credentials_path: "infra/postgres/support/root" }, root_credentials_source: "path" });
    const [row] = await f.t.db.query<{ root_cipher: Uint8Array | null }>("SELECT root_cipher FROM dynamic_engines WHERE name = 'support-db'");
    expect(row!.root_cipher).toBeNull();
    const ref = await f.call("POST", "/v1/dynamic/engines", f.admin, engine("support-db-ref", "${infra::postgres./support/root}"));
    expect(ref.status).toBe(201);
    for (const name of ["support-db", "support-db-ref"]) {
      expect((await f.call("POST", `/v1/dynamic/engines/${name}/roles`, f.admin, readonlyRole(f.target.root))).status).toBe(201);
      const creds = await f.call("POST", `/v1/dynamic/engines/${name}/creds/readonly`, f.admin, {});
      expect(creds.status).toBe(200);
      expect(await passwordWorks(creds.body.data.username, creds.body.data.password)).toBe(true);
    }
  });

  it("bad paths and values are 400 invalid_config; nothing is stored", async () => {
    const cases: [string, RegExp][] = [
      ["infra/postgres/nope/root", /no secret 'root' at \/nope in infra\/postgres/],
      ["nope/postgres/support/root", /no secret 'root' at \/support in nope\/postgres/],
      ["just-a-name", /must look like/],
      ["/infra/postgres/root", /must look like/],
    ];
    for (const [path, message] of cases) {
      const r = await f.call("POST", "/v1/dynamic/engines", f.admin, engine("bad", path));
      expect([r.status, r.body.code], path).toEqual([400, "invalid_config"]);
      expect(r.body.error).toMatch(message);
    }
    await setRoot("not json");
    const notJson = await f.call("POST", "/v1/dynamic/engines", f.admin, engine("bad", "infra/postgres/support/root"));
    expect(notJson.body).toEqual({ error: "config.root_credentials_path: the secret's value is not JSON.", code: "invalid_config" });
    await setRoot(JSON.stringify({ user: "x" }));
    const shape = await f.call("POST", "/v1/dynamic/engines", f.admin, engine("bad", "infra/postgres/support/root"));
    expect(shape.body.error).toBe('config.root_credentials_path: the secret\'s value must be a JSON object with exactly "username", "password".');
    await setRoot(rootJson(f.target.rootPassword));
    expect((await f.t.db.query("SELECT 1 FROM dynamic_engines WHERE name = 'bad'"))).toEqual([]);
  });

  it("is read at each use: a changed secret changes the root the engine uses, for new and earlier leases", async () => {
    const earlier = (await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, {})).body;
    // The secret now holds a password the target does not know: the engine cannot log in.
    await setRoot(rootJson("stale-password"));
    const refused = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, {});
    expect([refused.status, refused.body.code]).toEqual([502, "engine_unreachable"]);
    // Rotated by hand: the target first, then the secret.
    await f.target.db.query(`ALTER ROLE "${f.target.root}" PASSWORD 'Rotated-By-Hand-123'`);
    await setRoot(rootJson("Rotated-By-Hand-123"));
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, {})).status).toBe(200);
    expect((await f.call("DELETE", `/v1/dynamic/leases/${earlier.lease_id}`, f.admin)).body.status).toBe("revoked");
    expect(await roleExists(earlier.data.username)).toBe(false);
    // A missing secret at use time is engine_unreachable with the reason (never the value).
    await f.t.db.query("UPDATE secrets SET deleted_at = now()");
    const gone = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, {});
    expect(gone.status).toBe(502);
    expect(gone.body).toEqual({
      error: "The engine's root credentials could not be read: no secret 'root' at /support in infra/postgres.",
      code: "engine_unreachable",
    });
    await f.t.db.query("UPDATE secrets SET deleted_at = NULL");
  });

  it("rotate-root is refused: the secret's owner rotates it", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines/support-db/rotate-root", f.admin);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("rotation_unsupported");
    expect(r.body.error).toMatch(/root_credentials_path: rotate that secret instead/);
    expect(await passwordWorks(f.target.root, "Rotated-By-Hand-123")).toBe(true);
  });

  it("a caller who may manage the engine but not read the secret's environment is refused (403)", async () => {
    const sa = await f.serviceAccount();
    const c = f.c as { policies: AccessPolicies };
    const before = c.policies;
    c.policies = { allows: async (p, path, perm) => isAdmin(p) || (p.id === sa.id && path === "dynamic/engines/sa-db" && perm === "manage") };
    try {
      const r = await f.call("POST", "/v1/dynamic/engines", sa.token, engine("sa-db", "infra/postgres/support/root"));
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: "You don't have permission to read the secret at root_credentials_path.", code: "permission_denied" });
    } finally {
      c.policies = before;
    }
  });
});
