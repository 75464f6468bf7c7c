import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgDefinition, leaseEvents, leaseRow, META, rolesWithPrefix, startLeaseHarness, type LeaseHarness } from "./helpers.js";

/**
 * Deleting an app deletes its dynamic secrets with it (their leases lose their definition id):
 * every live lease of its environments is then revoked, as for a deleted definition, instead of
 * living on to its TTL with its credential.
 */
describe("DELETE /v1/apps/:id with live leases", () => {
  let h: LeaseHarness;

  beforeAll(async () => {
    h = await startLeaseHarness();
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
});
