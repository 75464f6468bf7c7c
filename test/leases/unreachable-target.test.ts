import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leaseEvents, leaseRow, META, pgConfig, startLeaseHarness, type LeaseHarness } from "./helpers.js";

/**
 * A lease requested while its target is down: no connection was made, so nothing can exist
 * upstream. The lease ends CREATE_FAILED at once, without revocation attempts that cannot connect
 * either (they used to run into REVOKE_FAILED, an alarm about a credential that never existed).
 */
describe("a lease whose target cannot be reached", () => {
  let h: LeaseHarness;

  beforeAll(async () => {
    h = await startLeaseHarness();
  });
  afterAll(async () => h?.close());

  // Without scram_iterations the target's own count is read first; with it, the creation connects.
  it.each([
    ["down", {}, "settings read"],
    ["down4096", { scram_iterations: 4096 }, "role creation"],
  ])("ends CREATE_FAILED with no rollback call (%s)", async (name, extra, step) => {
    // Port 1 on loopback: connection refused.
    const config = pgConfig(h, { connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:1/none", ...extra });
    const def = await h.c.dynamicSecrets.create(h.owner, { environmentId: h.envId, name, path: `/${name}`, provider: "postgresql", config, defaultTtl: 3600, maxTtl: 7200, verifyConnection: false });
    await expect(h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 })).rejects.toThrow("An internal error occurred while creating the lease");

    const [{ id }] = (await h.t.db.query<{ id: string }>("SELECT id FROM leases WHERE dynamic_secret_id = $1", [def.id])) as [{ id: string }];
    const row = await leaseRow(h, id);
    expect({ status: row.status, attempts: row.attempts, claimedBy: row.claimed_by, nextAttemptAt: row.next_attempt_at }).toEqual({
      status: "CREATE_FAILED",
      attempts: 0,
      claimedBy: null,
      nextAttemptAt: null,
    });
    expect(row.last_error).toMatch(new RegExp(`^PostgreSQL ${step} failed: connect ECONNREFUSED 127\\.0\\.0\\.1:1`));
    const events = await leaseEvents(h, id);
    expect(events.map((e) => e.event_type)).toEqual(["create_failed", "rolled_back"]);
    expect(events[1]!.metadata).toMatchObject({ reason: "creation_failed", attempts: 0, upstream: "untouched" });
    // Nothing left for the reaper.
    await h.c.reaper.tick();
    expect((await leaseRow(h, id)).status).toBe("CREATE_FAILED");
  });
});
