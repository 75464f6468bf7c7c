import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import {
  createPgDefinition,
  createUserPrincipal,
  leaseEvents,
  leaseRow,
  META,
  rejection,
  ROOT_PASSWORD,
  rolesWithPrefix,
  startLeaseHarness,
  wrapPostgres,
  type LeaseHarness,
  type WrappedProvider,
} from "./helpers.js";

const SCRUBBED = "could not connect to postgresql://postgres:[REDACTED]@db.internal/app";

const roleExists = async (h: LeaseHarness, name: string) =>
  (await h.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name])).length === 1;

describe("revocation failures, retries, REVOKE_FAILED, force, and failed creation", () => {
  let h: LeaseHarness;
  let flaky: WrappedProvider;
  let secretId: string;

  beforeAll(async () => {
    flaky = wrapPostgres("flaky-pg");
    h = await startLeaseHarness({ providers: [flaky.provider] });
    secretId = (await createPgDefinition(h, { provider: "flaky-pg", name: "flaky" })).id;
  });
  afterAll(async () => h?.close());

  const create = (ttl = 600) => h.c.leases.createLease(h.owner, META, { secretId, ttl });

  it("a failed revoke is retried with backoff, then succeeds; errors are stored scrubbed", async () => {
    const { lease } = await create();
    flaky.failRevokes(2);
    const first = await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id });
    expect(first).toMatchObject({ outcome: "pending", error: SCRUBBED, lease: { status: "REVOKING", attempts: 1, lastError: SCRUBBED } });
    let row = await leaseRow(h, lease.id);
    expect(row).toMatchObject({ status: "REVOKING", revoke_reason: "manual", attempts: 1, claimed_by: null, last_error: SCRUBBED });
    // Full jitter: somewhere in [now, now + base].
    const now = h.t.clock.now().getTime();
    expect(row.next_attempt_at!.getTime()).toBeGreaterThanOrEqual(now);
    expect(row.next_attempt_at!.getTime()).toBeLessThanOrEqual(now + 2_000);
    expect(await roleExists(h, lease.upstreamIdentity)).toBe(true);

    h.t.clock.advance(2_000);
    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, failed: 1 });
    row = await leaseRow(h, lease.id);
    expect(row).toMatchObject({ status: "REVOKING", attempts: 2 });
    expect(row.next_attempt_at!.getTime()).toBeLessThanOrEqual(h.t.clock.now().getTime() + 4_000);

    h.t.clock.advance(4_000);
    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, revoked: 1 });
    expect(await leaseRow(h, lease.id)).toMatchObject({ status: "REVOKED", revoke_reason: "manual", last_error: null, attempts: 2 });
    expect(await roleExists(h, lease.upstreamIdentity)).toBe(false);
    expect(flaky.revokeCalls.get(lease.upstreamIdentity)).toBe(3);
    const events = await leaseEvents(h, lease.id);
    expect(events.map((e) => e.event_type)).toEqual(["created", "revoke_requested", "revoke_attempt_failed", "revoke_attempt_failed", "revoked"]);
    expect(JSON.stringify(events)).not.toContain(ROOT_PASSWORD);
    expect(events[2]!.metadata).toEqual({ reason: "manual", attempts: 1, error: SCRUBBED, retryable: true });
  });

  it("after the maximum attempts a lease is REVOKE_FAILED, stays listed, and the slow retry later succeeds", async () => {
    const { lease } = await create(60);
    flaky.failRevokes("always");
    h.t.clock.advance(60_000);
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, failed: 1 });
      const row = await leaseRow(h, lease.id);
      expect(row).toMatchObject({ attempts: attempt, status: attempt < 6 ? "REVOKING" : "REVOKE_FAILED", revoke_reason: "expired" });
      h.t.clock.advance(Math.min(300_000, 2_000 * 2 ** (attempt - 1)));
    }
    const failed = await leaseRow(h, lease.id);
    expect(failed.last_error).toBe(SCRUBBED);
    // Hourly (±10%), not sooner.
    const wait = failed.next_attempt_at!.getTime() - h.t.clock.now().getTime();
    expect(wait).toBeGreaterThan(3_000_000);
    expect((await h.c.reaper.tick()).claimed).toBe(0);
    const listed = (await h.c.leases.listLeases({ secretId })).find((l) => l.id === lease.id);
    expect(listed).toMatchObject({ status: "REVOKE_FAILED", lastError: SCRUBBED, attempts: 6 });
    expect(await h.c.leases.renewLease(h.owner, META, { leaseId: lease.id, ttl: 60 }).catch((e: AppError) => e.message)).toBe(
      "This lease has expired and cannot be renewed",
    );

    h.t.clock.advance(3_960_000);
    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, failed: 1 });
    expect(await leaseRow(h, lease.id)).toMatchObject({ status: "REVOKE_FAILED", attempts: 7 });

    flaky.failRevokes(0);
    h.t.clock.advance(3_960_000);
    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, revoked: 1 });
    expect(await leaseRow(h, lease.id)).toMatchObject({ status: "EXPIRED", revoke_reason: "expired", last_error: null });
    expect(await roleExists(h, lease.upstreamIdentity)).toBe(false);
    const types = (await leaseEvents(h, lease.id)).map((e) => e.event_type);
    expect(types).toEqual(["created", ...Array(5).fill("revoke_attempt_failed"), "revoke_failed", "revoke_attempt_failed", "expired"]);
  });

  it("a permanent error skips the fast retries: REVOKE_FAILED at once", async () => {
    const { lease } = await create();
    flaky.failRevokes(1, { retryable: false });
    const r = await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id });
    expect(r).toMatchObject({ outcome: "pending", lease: { status: "REVOKE_FAILED", attempts: 1 } });
    // A manual revoke of a REVOKE_FAILED lease tries again now.
    expect((await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id })).outcome).toBe("revoked");
    expect(await roleExists(h, lease.upstreamIdentity)).toBe(false);
  });

  it("force revoke: Owner/Admin only; REVOKED (forced) with a warning, audited, provider not called", async () => {
    const { lease } = await create();
    flaky.failRevokes("always");
    await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id });
    const dev = await createUserPrincipal(h, "DEVELOPER");
    const denied = { status: 403, message: "Only an Owner or Admin can force-revoke a lease." };
    expect(await rejection(h.c.leases.forceRevokeLease(dev, META, { leaseId: lease.id }))).toEqual(denied);
    expect((await leaseRow(h, lease.id)).status).toBe("REVOKING");

    const admin = await createUserPrincipal(h, "ADMIN");
    const calls = flaky.totalRevokeCalls();
    const forced = await h.c.leases.forceRevokeLease(admin, META, { leaseId: lease.id });
    expect(forced).toMatchObject({ outcome: "forced", lease: { status: "REVOKED", revokeReason: "forced" } });
    expect("warning" in forced && forced.warning).toMatch(/upstream credential was removed/);
    expect(flaky.totalRevokeCalls()).toBe(calls);
    const row = await leaseRow(h, lease.id);
    expect(row).toMatchObject({ status: "REVOKED", revoke_reason: "forced", claimed_by: null, next_attempt_at: null });
    expect(row.state_cipher.length).toBe(0);
    expect(await roleExists(h, lease.upstreamIdentity)).toBe(true); // the warning is true
    const events = await leaseEvents(h, lease.id);
    expect(events.at(-1)).toMatchObject({ event_type: "force_revoked", user_id: admin.id, ip_address: META.ipAddress });
    await h.c.audit.flush();
    const audit = await h.t.db.query("SELECT event_type, user_id, metadata FROM audit_events WHERE event_type = 'lease.force_revoke'");
    expect(audit).toEqual([{ event_type: "lease.force_revoke", user_id: admin.id, metadata: expect.objectContaining({ leaseId: lease.id }) }]);
    // The reaper leaves it alone now.
    h.t.clock.advance(600_000);
    await h.c.reaper.tick();
    expect(flaky.totalRevokeCalls()).toBe(calls);
    expect((await h.c.leases.forceRevokeLease(admin, META, { leaseId: lease.id })).outcome).toBe("already_revoked");
    flaky.failRevokes(0);
    await h.t.db.query(`DROP OWNED BY "${lease.upstreamIdentity}"; DROP ROLE "${lease.upstreamIdentity}"`);
  });

  it("a provider failure during create rolls back the half-made role: CREATE_FAILED, nothing left", async () => {
    flaky.failCreates(1);
    const before = await rolesWithPrefix(h);
    expect(await rejection(create())).toEqual({ status: 500, message: "An internal error occurred while creating the lease" });
    expect(await rolesWithPrefix(h)).toEqual(before);
    const [row] = await h.t.db.query<{ id: string; status: string; revoke_reason: string; last_error: string; state_cipher: Buffer }>(
      "SELECT * FROM leases WHERE status = 'CREATE_FAILED'",
    );
    expect(row).toMatchObject({ status: "CREATE_FAILED", revoke_reason: "creation_failed" });
    expect(row!.last_error).toBe("simulated failure; root password was [REDACTED]");
    expect(row!.state_cipher.length).toBe(0);
    expect((await leaseEvents(h, row!.id)).map((e) => e.event_type)).toEqual(["create_failed", "rolled_back"]);
  });

  it("a retryable create failure is retried with the same planned identity, within the create timeout", async () => {
    flaky.failCreates(2, { retryable: true, clean: true });
    const calls = flaky.createCalls;
    const { lease } = await create();
    expect(flaky.createCalls - calls).toBe(3);
    expect(await leaseRow(h, lease.id)).toMatchObject({ status: "ACTIVE", attempts: 0, last_error: null });
    expect(await roleExists(h, lease.upstreamIdentity)).toBe(true);
    await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id });
    flaky.failCreates(10, { retryable: true, clean: true });
    expect(await rejection(create())).toEqual({ status: 500, message: "An internal error occurred while creating the lease" });
    flaky.failCreates(0);
  });

  it("a create that outlives its timeout is rolled back by the reaper, then again by its creator", async () => {
    flaky.createDelayMs = 400;
    const pending = create().then(
      () => "created",
      (e: AppError) => e.message,
    );
    let id: string | undefined;
    for (let i = 0; i < 50 && !id; i++) {
      id = (await h.t.db.query<{ id: string }>("SELECT id FROM leases WHERE status = 'CREATING'"))[0]?.id;
      if (!id) await new Promise((r) => setTimeout(r, 10));
    }
    expect(id).toBeDefined();
    h.t.clock.advance(60_000); // LEASEHOLD_LEASE_CREATE_TIMEOUT_MS default
    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, revoked: 1 });
    expect((await leaseRow(h, id!)).status).toBe("CREATE_FAILED");
    expect(await pending).toBe("An internal error occurred while creating the lease");
    flaky.createDelayMs = 0;
    const row = await leaseRow(h, id!);
    expect(row).toMatchObject({ status: "CREATE_FAILED", revoke_reason: "creation_failed" });
    expect(flaky.revokeCalls.get(row.upstream_identity)).toBe(2);
    expect(await roleExists(h, row.upstream_identity)).toBe(false);
  });
});

describe("LEASEHOLD_REVOCATION_PAUSED", () => {
  let h: LeaseHarness;
  beforeAll(async () => {
    h = await startLeaseHarness({ env: { LEASEHOLD_REVOCATION_PAUSED: "true" } });
  });
  afterAll(async () => h?.close());

  it("records revocations as REVOKING but executes none; creation and renewal still work", async () => {
    const def = await createPgDefinition(h);
    const a = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 60 });
    const b = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    expect((await h.c.leases.renewLease(h.owner, META, { leaseId: b.lease.id, ttl: 60 })).ttl).toBe(660);
    const r = await h.c.leases.revokeLease(h.owner, META, { leaseId: b.lease.id });
    expect(r).toMatchObject({ outcome: "pending", lease: { status: "REVOKING", revokeReason: "manual" } });
    h.t.clock.advance(120_000);
    expect(await h.c.reaper.tick()).toEqual({ claimed: 0, revoked: 0, failed: 0, released: 0 });
    expect(await leaseRow(h, a.lease.id)).toMatchObject({ status: "ACTIVE" });
    expect(await leaseRow(h, b.lease.id)).toMatchObject({ status: "REVOKING", claimed_by: null });
    expect(await rolesWithPrefix(h)).toEqual([a.lease.upstreamIdentity, b.lease.upstreamIdentity].sort());
  });
});
