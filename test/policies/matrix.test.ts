import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../src/auth/principal.js";
import { PERMISSIONS, type Permission } from "../../src/policies/access.js";
import { bearer, createServiceAccountWithToken, createUserWithToken } from "../management/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * allows(principal, path, permission) for every principal x path x permission, on policies created
 * through the HTTP routes (so their rules went through validation and normalisation), and how
 * binding, unbinding, replacing and deleting change the answers at once.
 */
const PATHS = [
  "dynamic/engines/pg/roles/readonly",
  "dynamic/engines/pg/roles/rw",
  "dynamic/engines/pg",
  "dynamic/engines/aws/roles/ro-s3",
  "dynamic/engines/aws",
  "dynamic/engines/mysql/roles/ro-main",
  "dynamic/leases/l-123",
  "infra/postgres/support/root",
] as const;

const POLICIES = {
  "pg-readonly": [
    { path_pattern: "dynamic/engines/pg/roles/readonly", permissions: ["read"] },
    { path_pattern: "dynamic/leases/**", permissions: ["revoke"] },
  ],
  "lease-reader": [{ path_pattern: "dynamic/leases/*", permissions: ["read", "revoke"] }],
  "pg-manage": [
    { path_pattern: "dynamic/engines/pg", permissions: ["manage"] },
    { path_pattern: "dynamic/engines/pg/roles/readonly", permissions: ["read"] },
  ],
  glob: [
    { path_pattern: "/dynamic/engines/*/roles/ro-*/", permissions: ["read"] },
    { path_pattern: "dynamic/engines/aws/**", permissions: ["manage", "read"] },
  ],
  "pg-root": [{ path_pattern: "infra/postgres/support/root", permissions: ["read", "rotate"] }],
  everything: [{ path_pattern: "**", permissions: [...PERMISSIONS] }],
};

type Name = "owner" | "admin" | "devBound" | "devUnbound" | "saBound" | "saUnbound" | "saGlob";

describe("access policies: allows() as a matrix", () => {
  let t: TestServer;
  const principals = {} as Record<Name, Principal>;
  const ids = {} as Record<Name, string>;

  const as = () => bearer(t.ownerToken);
  const allows = (who: Name, path: string, permission: Permission) => t.server.container.policies.allows(principals[who], path, permission);
  const bind = async (policy: string, body: object) =>
    expect((await t.http.post(`/v1/policies/${policy}/bindings/`).set(as()).send(body)).status).toBe(201);

  /** Every (path, permission) the principal is allowed, as "path permission" strings. */
  async function grants(who: Name): Promise<string[]> {
    const out: string[] = [];
    for (const path of PATHS) for (const perm of PERMISSIONS) if (await allows(who, path, perm)) out.push(`${path} ${perm}`);
    return out;
  }
  const ALL = PATHS.flatMap((p) => PERMISSIONS.map((perm) => `${p} ${perm}`));

  beforeAll(async () => {
    t = await startTestServer();
    const auth = t.server.container.authenticator;
    const admin = await createUserWithToken(t, "admin@example.com", "Admin");
    const users = {
      devBound: await createUserWithToken(t, "bound@example.com", "Developer"),
      devUnbound: await createUserWithToken(t, "unbound@example.com", "Developer"),
      saBound: await createServiceAccountWithToken(t, "reporting"),
      saUnbound: await createServiceAccountWithToken(t, "idle"),
      saGlob: await createServiceAccountWithToken(t, "globber"),
    };
    principals.owner = await auth.authenticate({ type: undefined, token: t.ownerToken });
    principals.admin = await auth.authenticate({ type: undefined, token: admin.token });
    for (const [name, u] of Object.entries(users)) {
      principals[name as Name] = await auth.authenticate({ type: undefined, token: u.token });
      ids[name as Name] = u.id;
    }
    for (const [name, rules] of Object.entries(POLICIES)) {
      expect((await t.http.post("/v1/policies/").set(as()).send({ name, rules })).status).toBe(201);
    }
    await bind("pg-readonly", { user_id: ids.devBound });
    await bind("lease-reader", { user_id: ids.devBound });
    await bind("pg-manage", { service_account_id: ids.saBound });
    await bind("glob", { service_account_id: ids.saGlob });
    // Policies bound to Owner/Admin change nothing; "everything" is bound to nobody at first.
    await bind("pg-root", { user_id: principals.admin.id });
  });
  afterAll(async () => t?.close());

  it("Owner and Admin: every path, every permission, bound or not", async () => {
    expect(await grants("owner")).toEqual(ALL);
    expect(await grants("admin")).toEqual(ALL);
  });

  it("principals without bindings: nothing (deny by default), though unbound policies grant everything", async () => {
    expect(await grants("devUnbound")).toEqual([]);
    expect(await grants("saUnbound")).toEqual([]);
  });

  it("bound principals: exactly the listed permissions on matching paths, the union of their policies", async () => {
    expect(await grants("devBound")).toEqual([
      "dynamic/engines/pg/roles/readonly read",
      "dynamic/leases/l-123 read",
      "dynamic/leases/l-123 revoke",
    ]);
    expect(await grants("saBound")).toEqual(["dynamic/engines/pg/roles/readonly read", "dynamic/engines/pg manage"]);
    // `ro-*` matches ro-s3 and ro-main, not readonly; aws/** includes aws itself; no `list` anywhere.
    expect(await grants("saGlob")).toEqual([
      "dynamic/engines/aws/roles/ro-s3 read",
      "dynamic/engines/aws/roles/ro-s3 manage",
      "dynamic/engines/aws read",
      "dynamic/engines/aws manage",
      "dynamic/engines/mysql/roles/ro-main read",
    ]);
  });

  it("paths are compared without leading or trailing slashes; empty paths and empty segments are denied", async () => {
    expect(await allows("saBound", "/dynamic/engines/pg/", "manage")).toBe(true);
    expect(await allows("saBound", "dynamic/engines/pg/roles/readonly/", "read")).toBe(true);
    expect(await allows("saGlob", "dynamic/engines//roles/ro-x", "read")).toBe(false);
    expect(await allows("saGlob", "", "read")).toBe(false);
    expect(await allows("saGlob", "dynamic/engines/aws/x/y/z", "manage")).toBe(true);
    expect(await allows("saGlob", "dynamic/engines/AWS", "manage")).toBe(false);
    expect(await allows("devBound", "dynamic/leases/l-1/renew", "read")).toBe(false); // leases/* is one segment
    expect(await allows("devBound", "dynamic/leases/l-1/renew", "revoke")).toBe(true); // leases/** is any
    expect(await allows("devBound", "dynamic/engines/pg/roles/readonly", "bogus" as Permission)).toBe(false);
  });

  it("unbinding revokes at once, binding grants at once", async () => {
    const url = "/v1/policies/pg-readonly/bindings/";
    expect((await t.http.delete(url).set(as()).send({ user_id: ids.devBound })).status).toBe(204);
    expect(await grants("devBound")).toEqual(["dynamic/leases/l-123 read", "dynamic/leases/l-123 revoke"]);

    await bind("everything", { service_account_id: ids.saUnbound });
    expect(await grants("saUnbound")).toEqual(ALL);
    expect((await t.http.delete(`/v1/policies/everything/bindings?service_account_id=${ids.saUnbound}`).set(as())).status).toBe(204);
    expect(await grants("saUnbound")).toEqual([]);
  });

  it("replacing rules applies at once; deleting a policy revokes what it granted", async () => {
    const put = await t.http
      .put("/v1/policies/glob/")
      .set(as())
      .send({ rules: [{ path_pattern: "dynamic/engines/mysql/**", permissions: ["list"] }] });
    expect(put.status).toBe(200);
    expect(await grants("saGlob")).toEqual(["dynamic/engines/mysql/roles/ro-main list"]);

    expect((await t.http.delete("/v1/policies/lease-reader/").set(as())).status).toBe(204);
    expect(await grants("devBound")).toEqual([]);
    expect((await t.http.delete("/v1/policies/pg-manage").set(as())).status).toBe(204);
    expect(await grants("saBound")).toEqual([]);
    expect(await grants("admin")).toEqual(ALL);
  });

  it("a pattern edited into the database by hand that the API would refuse matches nothing", async () => {
    await t.db.query(`UPDATE policies SET rules = $1 WHERE name = 'pg-root'`, [
      JSON.stringify([{ path_pattern: "dynamic/engines/pg/roles/read?nly", permissions: ["read"] }, { path_pattern: "dynamic/engines/pg", permissions: ["read"] }]),
    ]);
    await bind("pg-root", { user_id: ids.devUnbound });
    expect(await allows("devUnbound", "dynamic/engines/pg/roles/read?nly", "read")).toBe(false);
    expect(await grants("devUnbound")).toEqual(["dynamic/engines/pg read"]);
  });
});
