import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeIam, type FakeIam } from "../support/fake-iam.js";
import { leaseEvents, leaseRow, META, startLeaseHarness, type LeaseHarness } from "./helpers.js";

/**
 * The rollback of an AWS lease whose CreateUser failed: the user never existed, so the revoke
 * answers "not visible yet" until IAM's consistency window (120 s) has passed. That is not a
 * failed revocation: the lease must end CREATE_FAILED, not REVOKE_FAILED for an hour.
 */
describe("rollback of an AWS lease whose user was never created", () => {
  let h: LeaseHarness;
  let iam: FakeIam;
  let secretId: string;

  beforeAll(async () => {
    iam = await startFakeIam();
    h = await startLeaseHarness();
    const config = { region: "us-east-1", endpoint: iam.endpoint, access_key_id: iam.rootAccessKeyId, secret_access_key: iam.rootSecretAccessKey, iam_path: "/rb/" };
    secretId = (await h.c.dynamicSecrets.create(h.owner, { environmentId: h.envId, path: "/", name: "aws", provider: "aws", config, defaultTtl: 3600, maxTtl: 7200 })).id;
  });
  afterAll(async () => {
    await h?.close();
    await iam?.close();
  });

  it("retries through the consistency window and ends CREATE_FAILED without a REVOKE_FAILED detour", async () => {
    iam.failOn("CreateUser", { code: "AccessDenied" });
    await expect(h.c.leases.createLease(h.owner, META, { secretId, ttl: 600 })).rejects.toThrow("An internal error occurred while creating the lease");
    const [{ id }] = (await h.t.db.query<{ id: string }>("SELECT id FROM leases")) as [{ id: string }];
    expect(iam.users()).toEqual([]);
    // Every retry as late as its backoff allows (the ceiling of its full jitter), one tick each.
    for (let attempt = 1; attempt <= 12; attempt++) {
      const row = await leaseRow(h, id);
      if (row.status !== "REVOKING") break;
      h.t.clock.advance(Math.min(300_000, 2_000 * 2 ** (attempt - 1)));
      await h.c.reaper.tick();
    }
    const row = await leaseRow(h, id);
    const types = (await leaseEvents(h, id)).map((e) => e.event_type);
    expect({ status: row.status, types: types.filter((t) => t === "revoke_failed") }).toEqual({ status: "CREATE_FAILED", types: [] });
    // The "not visible yet" answers used no attempts: every one recorded the count unchanged.
    const waits = (await leaseEvents(h, id)).filter((e) => e.event_type === "revoke_attempt_failed");
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.map((e) => e.metadata["attempts"])).toEqual(waits.map(() => 0));
    expect(types.at(-1)).toBe("rolled_back");
  });
});
