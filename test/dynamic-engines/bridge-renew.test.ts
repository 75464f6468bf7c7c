import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineFixture, readonlyRole, supportDb, type EngineFixture } from "./helpers.js";

/** Phase's renewal of a lease from an engine-backed definition stays within the engine role's max_ttl, as creation does. */
describe("Phase renewal of an engine-backed lease", () => {
  let f: EngineFixture;

  beforeAll(async () => {
    f = await engineFixture();
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, readonlyRole(f.target.root))).status).toBe(201);
  });
  afterAll(async () => f?.close());

  it("refuses to renew past the role's (lowered) max_ttl although the definition's is larger", async () => {
    const owner = await f.c.authenticator.authenticate({ type: undefined, token: f.admin });
    const app = await f.c.appService.createApp("support", ["Development"]);
    const def = await f.c.dynamicSecrets.create(owner, {
      environmentId: app.environments[0]!.id,
      path: "/",
      name: "reader",
      provider: "engine",
      config: { engine: "support-db", role: "readonly" },
      defaultTtl: 600,
      maxTtl: 7200,
    });
    // The engine's max_ttl (and so the role's bound) is lowered to 15 minutes afterwards.
    expect((await f.call("PATCH", "/v1/dynamic/engines/support-db", f.admin, { max_ttl: "15m" })).status).toBe(200);
    await expect(f.c.leases.createLease(owner, undefined, { secretId: def.id, ttl: 1200 })).rejects.toThrow(/exceeds the maximum TTL/);
    const { lease } = await f.c.leases.createLease(owner, undefined, { secretId: def.id, ttl: 600 });
    // 600 + 600 > 900: creation would have refused this lifetime, so must renewal.
    await expect(f.c.leases.renewLease(owner, undefined, { leaseId: lease.id, ttl: 600 })).rejects.toThrow(/would exceed the maximum TTL/);
    const [row] = await f.t.db.query<{ ttl_seconds: number }>("SELECT ttl_seconds FROM leases WHERE id = $1", [lease.id]);
    expect(row!.ttl_seconds).toBe(600);
    await f.c.leases.revokeLease(owner, undefined, { leaseId: lease.id });
  });
});
