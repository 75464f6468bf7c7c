import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Provider } from "../../src/providers/provider.js";
import type { TestServer } from "../support/server.js";
import { createPgDefinition, META, rolesWithPrefix, startLeaseHarness, startSecondInstance, wrapPostgres, type LeaseHarness } from "./helpers.js";

/** Counts revocations per identity and checks no identity is ever revoked by two callers at once. */
function observe(w: ReturnType<typeof wrapPostgres>, log: { ok: Map<string, number>; inFlight: Map<string, number>; overlaps: number }): Provider {
  const inner = w.provider;
  return {
    ...inner,
    async revoke(config, revocation, ctx) {
      const id = revocation.identity;
      const now = (log.inFlight.get(id) ?? 0) + 1;
      log.inFlight.set(id, now);
      if (now > 1) log.overlaps++;
      try {
        await inner.revoke(config, revocation, ctx);
        log.ok.set(id, (log.ok.get(id) ?? 0) + 1);
      } finally {
        log.inFlight.set(id, (log.inFlight.get(id) ?? 1) - 1);
      }
    },
  };
}

describe("two reapers (two servers on one database, distinct instance ids)", () => {
  let h: LeaseHarness;
  let second: TestServer;
  const log = { ok: new Map<string, number>(), inFlight: new Map<string, number>(), overlaps: 0 };
  const a = wrapPostgres("counted-pg");
  const b = wrapPostgres("counted-pg");
  const env = { LEASEHOLD_REAPER_BATCH_SIZE: "25" };

  beforeAll(async () => {
    h = await startLeaseHarness({ providers: [observe(a, log)], env });
    second = await startSecondInstance(h, [observe(b, log)], env);
  }, 60_000);
  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  it("200 due leases: every one revoked exactly once, none left, both instances took part", async () => {
    expect(second.server.container.instanceId).not.toBe(h.c.instanceId);
    // Revocation that only touches the role's own catalog row, so concurrent revocations do not
    // collide on shared ACLs (that is the provider's concern, not the reaper's).
    const def = await createPgDefinition(h, {
      provider: "counted-pg",
      config: {
        creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`],
        revocation_statements: [`DROP ROLE IF EXISTS "{{name}}"`],
      },
    });
    const ids: string[] = [];
    for (let i = 0; i < 200; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 60 })));
      ids.push(...batch.map((x) => x.lease.upstreamIdentity));
    }
    expect(await rolesWithPrefix(h)).toHaveLength(200);

    h.t.clock.advance(60_000);
    const [r1, r2] = await Promise.all([h.c.reaper.tick(), second.server.container.reaper.tick()]);
    expect(r1.claimed + r2.claimed).toBe(200);
    expect(r1.revoked + r2.revoked).toBe(200);
    expect(r1.claimed).toBeGreaterThan(0);
    expect(r2.claimed).toBeGreaterThan(0);

    expect(log.overlaps).toBe(0);
    expect(ids.every((id) => log.ok.get(id) === 1)).toBe(true);
    expect(a.totalRevokeCalls() + b.totalRevokeCalls()).toBe(200);
    expect(await rolesWithPrefix(h)).toEqual([]);
    const statuses = await h.t.db.query<{ status: string; n: number; claimed: number }>(
      "SELECT status::text, count(*)::int AS n, count(claimed_by)::int AS claimed FROM leases GROUP BY 1",
    );
    expect(statuses).toEqual([{ status: "EXPIRED", n: 200, claimed: 0 }]);
    const events = await h.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM lease_events WHERE event_type = 'expired'");
    expect(events[0]!.n).toBe(200);
    expect((await Promise.all([h.c.reaper.tick(), second.server.container.reaper.tick()])).map((r) => r.claimed)).toEqual([0, 0]);
  });

  it("graceful stop hands back claims: a stopped instance's queued work is due again at once", async () => {
    // A REVOKING row claimed by the second instance (as if mid-batch), then that instance stops.
    const def = (await h.c.dynamicSecrets.list(h.envId))[0]!;
    const { lease } = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const until = new Date(h.t.clock.now().getTime() + 120_000);
    await h.t.db.query("UPDATE leases SET status = 'REVOKING', revoke_reason = 'manual', claimed_by = $2, claimed_until = $3, next_attempt_at = $3 WHERE id = $1", [
      lease.id,
      second.server.container.instanceId,
      until,
    ]);
    expect((await h.c.reaper.tick()).claimed).toBe(0); // claimed elsewhere: not ours to take
    await second.server.container.reaper.stop();
    const [row] = await h.t.db.query<{ claimed_by: string | null; next_attempt_at: Date }>("SELECT claimed_by, next_attempt_at FROM leases WHERE id = $1", [lease.id]);
    expect(row).toEqual({ claimed_by: null, next_attempt_at: h.t.clock.now() });
    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, revoked: 1 });
  });
});
