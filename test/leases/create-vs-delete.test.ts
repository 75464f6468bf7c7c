import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Provider } from "../../src/providers/provider.js";
import { createPgDefinition, leaseEvents, rejection, META, rolesWithPrefix, startLeaseHarness, wrapPostgres, type LeaseHarness } from "./helpers.js";

const NOT_FOUND = { status: 404, message: "Dynamic secret not found" };

/**
 * A definition deleted while one of its leases is being created. Deletion is a soft delete, then
 * requestRevocationOfDefinition (which queues the definition's ACTIVE and CREATING leases); a
 * create is open definition → insert CREATING → provider create → activate. No interleaving may
 * leave an ACTIVE lease (or an upstream role) behind for a deleted definition.
 */
describe("lease creation racing the deletion of its definition", () => {
  let h: LeaseHarness;
  const w = wrapPostgres("racy-pg");
  /** Runs inside provider.create, after the CREATING row is committed and before the role exists. */
  let duringCreate: (() => Promise<void>) | null = null;
  const provider: Provider = {
    ...w.provider,
    async create(config, planned, ctx) {
      const hook = duringCreate;
      duringCreate = null;
      if (hook) await hook();
      return w.provider.create(config, planned, ctx);
    },
  };

  beforeAll(async () => {
    h = await startLeaseHarness({ providers: [provider] });
  });
  afterAll(async () => h?.close());

  const leasesOf = (secretId: string) =>
    h.t.db.query<{ id: string; status: string; revoke_reason: string | null; claimed_by: string | null; upstream_identity: string }>(
      "SELECT id, status::text, revoke_reason, claimed_by, upstream_identity FROM leases WHERE dynamic_secret_id = $1",
      [secretId],
    );

  /** Roles made for the definition named `name` (upstream identities are <prefix>_<name>_<random>). */
  const rolesOf = async (name: string) => (await rolesWithPrefix(h)).filter((r) => r.startsWith(`${h.prefix}_${name}_`));

  it("deleted between open and insert: no row, no provider call, 404", async () => {
    const def = await createPgDefinition(h, { provider: "racy-pg", name: "opened" });
    const opened = await h.c.dynamicSecrets.open(def.id);
    expect(await h.c.dynamicSecrets.delete(h.owner, def.id, { principal: h.owner })).toEqual({ revokingLeases: 0 });
    const calls = w.createCalls;

    const create = h.c.leases.createLease(h.owner, META, { secretId: def.id, environmentId: h.envId, definition: opened });
    expect(await rejection(create)).toEqual(NOT_FOUND);
    expect(w.createCalls).toBe(calls);
    expect(await leasesOf(def.id)).toEqual([]);
    expect(await rolesOf("opened")).toEqual([]);
  });

  it("deleted after the insert, its revocation request having missed the row: activation refuses, the role is rolled back, 404", async () => {
    const def = await createPgDefinition(h, { provider: "racy-pg", name: "missed" });
    // The state requestRevocationOfDefinition leaves when its statement started before the
    // CREATING row was committed: the definition is soft-deleted, the row is still CREATING.
    duringCreate = async () => {
      await h.t.db.query("UPDATE dynamic_secrets SET deleted_at = $2 WHERE id = $1", [def.id, h.t.clock.now()]);
      expect(await leasesOf(def.id)).toMatchObject([{ status: "CREATING", revoke_reason: null }]);
    };

    expect(await rejection(h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 }))).toEqual(NOT_FOUND);
    const rows = await leasesOf(def.id);
    expect(rows).toMatchObject([{ status: "CREATE_FAILED", revoke_reason: "creation_failed", claimed_by: null }]);
    expect(w.revokeCalls.get(rows[0]!.upstream_identity)).toBe(1);
    expect(await rolesOf("missed")).toEqual([]);
    expect((await leaseEvents(h, rows[0]!.id)).map((e) => e.event_type)).toEqual(["create_failed", "rolled_back"]);
    // Nothing left for the reaper, and still no role.
    h.t.clock.advance(3_600_000);
    expect((await h.c.reaper.tick()).claimed).toBe(0);
    expect(await rolesOf("missed")).toEqual([]);
  });

  it("deleted after the insert, the row queued by the delete: the role is rolled back, 404, EXPIRED", async () => {
    const def = await createPgDefinition(h, { provider: "racy-pg", name: "queued" });
    duringCreate = async () => {
      expect(await h.c.dynamicSecrets.delete(h.owner, def.id, { principal: h.owner })).toEqual({ revokingLeases: 1 });
    };

    expect(await rejection(h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 }))).toEqual(NOT_FOUND);
    const rows = await leasesOf(def.id);
    expect(rows).toMatchObject([{ status: "EXPIRED", revoke_reason: "definition_deleted", claimed_by: null }]);
    expect(w.revokeCalls.get(rows[0]!.upstream_identity)).toBe(1);
    expect(await rolesOf("queued")).toEqual([]);
    expect((await leaseEvents(h, rows[0]!.id)).map((e) => e.event_type)).toEqual(["revoke_requested", "create_failed", "expired"]);
  });

  it("afterwards: no lease of a deleted definition is ACTIVE, no role is left", async () => {
    const active = await h.t.db.query(
      "SELECT l.id FROM leases l JOIN dynamic_secrets d ON d.id = l.dynamic_secret_id WHERE d.deleted_at IS NOT NULL AND l.status = 'ACTIVE'",
    );
    expect(active).toEqual([]);
    expect(await rolesWithPrefix(h)).toEqual([]);
  });
});
