import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Provider } from "../../src/providers/provider.js";
import type { TestServer } from "../support/server.js";
import { createPgDefinition, leaseRow, META, rolesWithPrefix, startLeaseHarness, startSecondInstance, wrapPostgres, type LeaseHarness } from "./helpers.js";

const CLAIM_TTL_MS = 120_000;
const PROVIDER_TIMEOUT_MS = 30_000;
/** Each revocation takes this long on the (injected) clock: a slow target, within the provider timeout. */
const CALL_MS = 25_000;
const DROP_ONLY = {
  creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`],
  revocation_statements: [`DROP ROLE IF EXISTS "{{name}}"`],
};

/**
 * A batch claimed by one reaper waits behind its target's limiter (one at a time here) longer than
 * its claim. A second instance may then claim the same rows: the first must not still call the
 * provider for them. Claim at T0 (until T0+120 s); calls start at T0, +25, +50, +75 (each with at
 * least the provider timeout left); at T0+100 only 20 s are left, so the rest are handed back.
 */
describe("reaper: a claim that runs out while its revocation waits behind the per-target limiter", () => {
  let h: LeaseHarness;
  let second: TestServer;
  const a = wrapPostgres("slow-pg");
  const b = wrapPostgres("slow-pg");
  /** Set when a call ends past the batch's claim: the second instance's tick then runs, mid-queue. */
  let claimEnds = Infinity;
  let secondTicked = false;
  let callMs = CALL_MS;

  const slow = (w: ReturnType<typeof wrapPostgres>, first: boolean): Provider => ({
    ...w.provider,
    async revoke(config, revocation, ctx) {
      h.t.clock.advance(callMs);
      if (first && !secondTicked && h.t.clock.now().getTime() >= claimEnds) {
        secondTicked = true;
        await second.server.container.reaper.tick();
      }
      return w.provider.revoke(config, revocation, ctx);
    },
  });

  const env = {
    LEASEHOLD_REAPER_SCHEDULE: "off",
    LEASEHOLD_REAPER_CONCURRENCY_PER_TARGET: "1",
    LEASEHOLD_REAPER_CLAIM_TTL_MS: String(CLAIM_TTL_MS),
    LEASEHOLD_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
  };

  beforeAll(async () => {
    h = await startLeaseHarness({ providers: [slow(a, true)], env });
    second = await startSecondInstance(h, [slow(b, false)], env);
  }, 60_000);
  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  it("jobs whose claim ran out in the queue make no provider call; every lease is revoked exactly once", async () => {
    const def = await createPgDefinition(h, { provider: "slow-pg", config: DROP_ONLY });
    const leases = [];
    for (let i = 0; i < 6; i++) leases.push((await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 60 })).lease);
    const identities = leases.map((l) => l.upstreamIdentity);
    expect(await rolesWithPrefix(h)).toHaveLength(6);

    h.t.clock.advance(60_000);
    const t0 = h.t.clock.now().getTime();
    claimEnds = t0 + CLAIM_TTL_MS;
    const first = await h.c.reaper.tick();
    expect(first).toEqual({ claimed: 6, revoked: 4, failed: 0, released: 2 });
    expect(h.t.clock.now().getTime()).toBe(t0 + 4 * CALL_MS);
    expect(secondTicked).toBe(false);

    const calledByFirst = identities.filter((id) => a.revokeCalls.get(id) === 1);
    const handedBack = identities.filter((id) => !a.revokeCalls.has(id));
    expect([calledByFirst.length, handedBack.length, a.totalRevokeCalls()]).toEqual([4, 2, 4]);
    // Handed back untouched (no attempt spent), due at once, no longer claimed.
    for (const l of leases.filter((x) => handedBack.includes(x.upstreamIdentity))) {
      expect(await leaseRow(h, l.id)).toMatchObject({
        status: "REVOKING",
        revoke_reason: "expired",
        attempts: 0,
        claimed_by: null,
        next_attempt_at: h.t.clock.now(),
        last_error: null,
      });
    }

    expect(await second.server.container.reaper.tick()).toEqual({ claimed: 2, revoked: 2, failed: 0, released: 0 });
    expect(handedBack.map((id) => b.revokeCalls.get(id))).toEqual([1, 1]);
    expect(identities.map((id) => (a.revokeCalls.get(id) ?? 0) + (b.revokeCalls.get(id) ?? 0))).toEqual([1, 1, 1, 1, 1, 1]);

    expect(await rolesWithPrefix(h)).toEqual([]);
    const rows = await h.t.db.query<{ status: string; n: number; claimed: number }>(
      "SELECT status::text, count(*)::int AS n, count(claimed_by)::int AS claimed FROM leases GROUP BY 1",
    );
    expect(rows).toEqual([{ status: "EXPIRED", n: 6, claimed: 0 }]);
    const events = await h.t.db.query<{ lease_id: string; n: number }>(
      "SELECT lease_id, count(*)::int AS n FROM lease_events WHERE event_type = 'expired' GROUP BY 1",
    );
    expect(events.map((e) => e.n)).toEqual([1, 1, 1, 1, 1, 1]);
    expect((await Promise.all([h.c.reaper.tick(), second.server.container.reaper.tick()])).map((r) => r.claimed)).toEqual([0, 0]);
  });

  it("a job still queued when the clock passes its claim (a stalled process) is handed back, not started", async () => {
    const def = await createPgDefinition(h, { provider: "slow-pg", name: "stalled", path: "/stalled", config: DROP_ONLY });
    const x = (await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 60 })).lease;
    const y = (await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 60 })).lease;
    h.t.clock.advance(60_000);
    claimEnds = Infinity; // the second instance stays out of this one
    callMs = CLAIM_TTL_MS + 10_000; // the first call returns after the whole batch's claim has passed
    const calls = a.totalRevokeCalls();
    try {
      expect(await h.c.reaper.tick()).toEqual({ claimed: 2, revoked: 1, failed: 0, released: 1 });
    } finally {
      callMs = CALL_MS;
    }
    expect(a.totalRevokeCalls() - calls).toBe(1);
    const [done, stale] = a.revokeCalls.has(x.upstreamIdentity) ? [x, y] : [y, x];
    expect(a.revokeCalls.get(stale.upstreamIdentity)).toBeUndefined();
    expect(await leaseRow(h, done.id)).toMatchObject({ status: "EXPIRED", claimed_by: null });
    expect(await leaseRow(h, stale.id)).toMatchObject({ status: "REVOKING", attempts: 0, claimed_by: null, next_attempt_at: h.t.clock.now() });

    expect(await h.c.reaper.tick()).toEqual({ claimed: 1, revoked: 1, failed: 0, released: 0 });
    expect([x, y].map((l) => a.revokeCalls.get(l.upstreamIdentity))).toEqual([1, 1]);
    expect(await leaseRow(h, stale.id)).toMatchObject({ status: "EXPIRED", revoke_reason: "expired", claimed_by: null });
    const events = await h.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM lease_events WHERE lease_id = $1 AND event_type = 'expired'", [stale.id]);
    expect(events).toEqual([{ n: 1 }]);
    expect(await rolesWithPrefix(h)).toEqual([]);
  });
});
