import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresProvider } from "../../src/providers/postgresql.js";
import type { Provider } from "../../src/providers/provider.js";
import { createPgDefinition, leaseEvents, leaseRow, META, pgConfig, rejection, rolesWithPrefix, startLeaseHarness, type LeaseHarness } from "./helpers.js";

/**
 * Deleting an app deletes its dynamic secrets with it (their leases lose their definition id):
 * every live lease of its environments is then revoked, as for a deleted definition, instead of
 * living on to its TTL with its credential.
 */
describe("DELETE /v1/apps/:id with live leases", () => {
  let h: LeaseHarness;
  /** A create made its role and waits here before it returns (before the lease is activated). */
  let gate: Promise<void> = Promise.resolve();
  let made!: () => void;
  const real = createPostgresProvider();
  const gated: Provider = {
    ...(real as unknown as Provider),
    id: "gated-pg",
    async create(config, planned, ctx) {
      const out = await real.create(config as never, planned, ctx);
      made();
      await gate;
      return out;
    },
  };

  beforeAll(async () => {
    h = await startLeaseHarness({ providers: [gated] });
  });
  afterAll(async () => h?.close());

  it("revokes them: REVOKING at once, EXPIRED and the roles dropped after the reaper's pass", async () => {
    const def = await createPgDefinition(h);
    const a = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 3600 });
    const b = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 3600 });
    expect(await rolesWithPrefix(h)).toHaveLength(2);

    const res = await h.t.http.delete(`/v1/apps/${h.appId}`).set("Authorization", `Bearer User ${h.t.ownerToken}`).set("User-Agent", "app-delete-test");
    expect(res.status).toBe(204);
    for (const { lease } of [a, b]) {
      expect((await leaseRow(h, lease.id)).status).toBe("REVOKING");
      const requested = (await leaseEvents(h, lease.id)).at(-1)!;
      expect(requested).toMatchObject({ event_type: "revoke_requested", user_agent: "app-delete-test", metadata: { reason: "definition_deleted", cause: "app_deleted" } });
    }

    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 2, revoked: 2 });
    for (const { lease } of [a, b]) expect((await leaseRow(h, lease.id)).status).toBe("EXPIRED");
    expect(await rolesWithPrefix(h)).toEqual([]);
  });

  it("a lease whose app is deleted while its role is being made is never activated, and its role is dropped", async () => {
    const app = await h.c.appService.createApp("doomed", ["Development"]);
    const def = await h.c.dynamicSecrets.create(h.owner, {
      environmentId: app.environments[0]!.id,
      name: "doomed",
      provider: "gated-pg",
      config: pgConfig(h),
      defaultTtl: 3600,
      maxTtl: 7200,
    });
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    const roleMade = new Promise<void>((r) => (made = r));
    const creating = rejection(h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 }));
    await roleMade;
    // The app goes while the role exists and the lease is CREATING (the delete alone, without the
    // management API's revocation passes: the activation itself must refuse).
    await h.t.db.query("DELETE FROM apps WHERE id = $1", [app.id]);
    open();
    expect(await creating).toEqual({ status: 404, message: "Dynamic secret not found" });
    const rows = await h.t.db.query<{ status: string }>("SELECT status::text FROM leases WHERE environment_id = $1", [app.environments[0]!.id]);
    expect(rows).toEqual([{ status: "CREATE_FAILED" }]);
    expect(await rolesWithPrefix(h)).toEqual([]);
  });
});
