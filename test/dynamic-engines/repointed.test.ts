import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTarget, engineFixture, readonlyRole, roleExists, supportDb, type EngineFixture, type Target } from "./helpers.js";

/**
 * An engine pointed at another server while it has leases: those leases are revoked where they
 * were made, with the root credentials they were made with, not with the new target's. On a real
 * other server the new root would find no such role and the lease would be marked revoked while
 * the role lives on; here both databases share one cluster, so the new root's revocation fails
 * instead (it may not reassign the old root's objects), which is how this test tells them apart.
 */
describe("an engine repointed at another target keeps revoking its old leases on the old one", () => {
  let f: EngineFixture;
  let other: Target;

  beforeAll(async () => {
    f = await engineFixture();
    other = await createTarget();
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, readonlyRole(f.target.root))).status).toBe(201);
  });
  afterAll(async () => {
    await f?.close();
    await other?.drop([]);
  });

  it("revokes with the lease's own connection and root", async () => {
    const lease = await f.call("POST", "/v1/dynamic/engines/support-db/creds/readonly", f.admin, { ttl: "1h" });
    expect(lease.status).toBe(200);
    const role = lease.body.data.username as string;
    const moved = await f.call("PATCH", "/v1/dynamic/engines/support-db", f.admin, {
      config: { connection_url: other.connectionUrl, root_credentials: { username: other.root, password: other.rootPassword } },
    });
    expect(moved.status).toBe(200);

    const revoked = await f.call("DELETE", `/v1/dynamic/leases/${lease.body.lease_id}`, f.admin);
    expect({ status: revoked.status, lease: revoked.body.status }).toEqual({ status: 200, lease: "revoked" });
    expect(await roleExists(role)).toBe(false);
    const warned = f.t.logs().some((l) => l.includes("the engine points at another target than this lease's"));
    expect(warned).toBe(true);
  });
});
