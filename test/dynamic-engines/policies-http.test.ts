import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineFixture, readonlyRole, roleExists, supportDb, type EngineFixture } from "./helpers.js";

/**
 * The real policy engine behind the /v1/dynamic/ routes: policies created and bound through
 * /v1/policies, then each route answered for a service account by what its policy grants.
 */
describe("access policies on the engine routes (real HTTP, real policies)", () => {
  let f: EngineFixture;
  let reader: { id: string; token: string };
  let stranger: { id: string; token: string };
  beforeAll(async () => {
    f = await engineFixture();
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, readonlyRole(f.target.root))).status).toBe(201);
    const second = { ...readonlyRole(f.target.root), name: "writer" };
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, second)).status).toBe(201);
    reader = await f.serviceAccount();
    stranger = await f.serviceAccount();
    const policy = await f.call("POST", "/v1/policies/", f.admin, {
      name: "reporting",
      rules: [
        { path_pattern: "dynamic/engines/support-db/roles/readonly", permissions: ["read"] },
        { path_pattern: "dynamic/leases/**", permissions: ["read", "revoke"] },
      ],
    });
    expect(policy.status).toBe(201);
    expect((await f.call("POST", "/v1/policies/reporting/bindings/", f.admin, { service_account_id: reader.id })).status).toBe(201);
  });
  afterAll(async () => f?.close());

  it("deny by default: an unbound service account can do nothing", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", stranger.token, {});
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("permission_denied");
  });

  it("the bound account mints from the granted role only, and cannot manage the engine", async () => {
    const denied = await f.call("POST", "/v1/dynamic/engines/support-db/creds/writer", reader.token, {});
    expect(denied.status).toBe(403);
    const manage = await f.call("DELETE", "/v1/dynamic/engines/support-db", reader.token);
    expect(manage.status).toBe(403);
    const rotate = await f.call("POST", "/v1/dynamic/engines/support-db/rotate-root", reader.token, {});
    expect(rotate.status).toBe(403);

    const creds = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", reader.token, { ttl: "10m" });
    expect(creds.status).toBe(200);
    expect(await roleExists(creds.body.data.username)).toBe(true);
    expect((await f.call("GET", `/v1/dynamic/leases/${creds.body.lease_id}`, reader.token)).status).toBe(200);
    expect((await f.call("DELETE", `/v1/dynamic/leases/${creds.body.lease_id}`, reader.token)).status).toBe(200);
    expect(await roleExists(creds.body.data.username)).toBe(false);
  });

  it("unbinding closes the role on the next request", async () => {
    const unbind = await f.call("DELETE", `/v1/policies/reporting/bindings/?service_account_id=${reader.id}`, f.admin);
    expect(unbind.status).toBe(204);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", reader.token, {})).status).toBe(403);
  });
});
