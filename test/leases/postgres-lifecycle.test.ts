import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgTimestamp } from "../../src/providers/postgresql.js";
import { pythonDatetime } from "../../src/leases/errors.js";
import { connectAs, scramVerifies } from "../providers/pg-helpers.js";
import { createPgDefinition, drain, rejection, createUserPrincipal, leaseEvents, leaseRow, META, rolesWithPrefix, startLeaseHarness, type LeaseHarness } from "./helpers.js";

async function canQuery(user: string, password: string, database: string): Promise<string> {
  const c = await connectAs(user, password, database);
  try {
    const { rows } = await c.query<{ who: string; n: number }>("SELECT current_user AS who, count(*)::int AS n FROM reports");
    return `${rows[0]!.who}:${rows[0]!.n}`;
  } finally {
    await c.end();
  }
}

describe("leases with the PostgreSQL provider (real PostgreSQL target)", () => {
  let h: LeaseHarness;
  let secretId: string;

  beforeAll(async () => {
    h = await startLeaseHarness();
    secretId = (await createPgDefinition(h, { defaultTtl: 3600, maxTtl: 7200 })).id;
  });
  afterAll(async () => h?.close());

  const create = (ttl?: number) => h.c.leases.createLease(h.owner, META, { secretId, environmentId: h.envId, ttl });

  it("creates a working role and returns the credential once, in key_map order", async () => {
    const { lease, credentials } = await create(120);
    expect(credentials.map((c) => c.key)).toEqual(["DB_USERNAME", "DB_PASSWORD", "DATABASE_URL"]);
    const [user, password, url] = credentials.map((c) => c.value) as [string, string, string];
    expect(user).toMatch(new RegExp(`^${h.prefix}_reader_[a-z0-9]{16}$`));
    expect(url).toBe(`postgresql://${user}:${password}@127.0.0.1:5432/${h.t.db.name}`);
    expect(lease).toMatchObject({ status: "ACTIVE", ttl: 120, secretId, upstreamIdentity: user, renewedAt: null, revokedAt: null });
    expect(lease.owner).toMatchObject({ type: "user", id: h.owner.id });
    expect(lease.expiresAt.getTime() - lease.createdAt.getTime()).toBe(120_000);

    expect(await canQuery(user, password, h.t.db.name)).toBe(`${user}:0`);
    const [auth] = await h.t.db.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [user]);
    expect(scramVerifies(auth!.rolpassword, password)).toBe(true);

    const row = await leaseRow(h, lease.id);
    expect(row).toMatchObject({ status: "ACTIVE", ttl_seconds: 120, claimed_by: null, next_attempt_at: null, upstream_identity: user });
    // The sealed state holds the password and the root password, never in clear.
    expect(row.state_cipher.includes(Buffer.from(password))).toBe(false);
    expect(row.state_cipher.includes(Buffer.from("root-Secret"))).toBe(false);
    expect(await leaseEvents(h, lease.id)).toEqual([
      { event_type: "created", user_id: h.owner.id, ip_address: META.ipAddress, user_agent: META.userAgent, metadata: expect.objectContaining({ ttl: 120, identity: user }) },
    ]);
    // Listings never carry credentials.
    const listed = await h.c.leases.listLeases({ secretId });
    expect(listed[0]!.id).toBe(lease.id);
    expect(JSON.stringify(listed)).not.toContain(password);
  });

  it("revoke drops the role (login fails) and marks the lease REVOKED; a second revoke says so", async () => {
    const { lease, credentials } = await create();
    const [user, password] = credentials.map((c) => c.value) as [string, string];
    const result = await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id, environmentId: h.envId });
    expect(result.outcome).toBe("revoked");
    expect(result.lease).toMatchObject({ status: "REVOKED", revokeReason: "manual" });
    expect(await h.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [user])).toEqual([]);
    await expect(canQuery(user, password, h.t.db.name)).rejects.toThrow(/does not exist|authentication failed/);
    const row = await leaseRow(h, lease.id);
    expect(row).toMatchObject({ status: "REVOKED", revoke_reason: "manual", claimed_by: null, last_error: null, attempts: 0 });
    expect(row.revoked_at).toEqual(h.t.clock.now());
    expect(row.state_cipher.length).toBe(0); // root credentials are not kept for a finished lease
    expect((await leaseEvents(h, lease.id)).map((e) => e.event_type)).toEqual(["created", "revoke_requested", "revoked"]);
    expect((await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id })).outcome).toBe("already_revoked");
  });

  it("expiry: after the TTL the reaper drops the role and the lease ends EXPIRED", async () => {
    const { lease, credentials } = await create(60);
    const user = credentials[0]!.value;
    h.t.clock.advance(59_000);
    expect((await h.c.reaper.tick()).claimed).toBe(0);
    h.t.clock.advance(1_000);
    const tick = await h.c.reaper.tick();
    expect(tick).toMatchObject({ claimed: 1, revoked: 1, failed: 0 });
    expect(await h.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [user])).toEqual([]);
    expect(await leaseRow(h, lease.id)).toMatchObject({ status: "EXPIRED", revoke_reason: "expired", claimed_by: null });
    expect((await leaseEvents(h, lease.id)).map((e) => [e.event_type, e.user_id])).toEqual([["created", h.owner.id], ["expired", null]]);
    expect((await h.c.reaper.tick()).claimed).toBe(0);
  });

  it("renew moves expires_at, ttl, renewed_at and the role's VALID UNTIL", async () => {
    const { lease, credentials } = await create(600);
    const user = credentials[0]!.value;
    h.t.clock.advance(100_000);
    const renewed = await h.c.leases.renewLease(h.owner, META, { leaseId: lease.id, environmentId: h.envId, ttl: 900 });
    const expected = new Date(lease.expiresAt.getTime() + 900_000);
    expect(renewed).toMatchObject({ status: "ACTIVE", ttl: 1500, expiresAt: expected, renewedAt: h.t.clock.now() });
    const row = await leaseRow(h, lease.id);
    expect(row).toMatchObject({ ttl_seconds: 1500, expires_at: expected, renewed_at: h.t.clock.now() });
    const [role] = await h.t.db.query<{ valid: string }>("SELECT to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00' AS valid FROM pg_roles WHERE rolname = $1", [user]);
    expect(role!.valid).toBe(pgTimestamp(new Date(expected.getTime() + 5_000)));
    const events = await leaseEvents(h, lease.id);
    expect(events.at(-1)).toMatchObject({ event_type: "renewed", metadata: { ttl: 900, expiresAt: expected.toISOString() } });
  });

  it("applies Phase's TTL rules on create and renew, with its exact messages", async () => {
    expect(await rejection(create(59))).toEqual({ status: 400, message: "The specified TTL must be at least 60 seconds." });
    expect(await rejection(create(7201))).toEqual({ status: 400, message: "The specified TTL exceeds the maximum TTL for this dynamic secret." });
    const byDefault = await create(0);
    expect(byDefault.lease.ttl).toBe(3600);

    const id = byDefault.lease.id;
    const renew = (ttl: number) => h.c.leases.renewLease(h.owner, META, { leaseId: id, ttl });
    // Phase checks the cumulative total first: a ttl over max_ttl gets the total's message.
    expect(await rejection(renew(7201))).toEqual({
      status: 400,
      message: "The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: 3600 seconds",
    });
    expect(await rejection(renew(3601))).toEqual({
      status: 400,
      message: "The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: 3600 seconds",
    });
    expect((await renew(3600)).ttl).toBe(7200);
    expect(await rejection(renew(60))).toEqual({
      status: 400,
      message: "The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: 0 seconds",
    });
    expect(await rejection(renew(0))).toEqual({ status: 400, message: "The renewal TTL must be a positive number of seconds." });

    const short = await create(60);
    h.t.clock.advance(60_000);
    expect(await rejection(h.c.leases.renewLease(h.owner, META, { leaseId: short.lease.id, ttl: 60 }))).toEqual({
      status: 400,
      message: "This lease has expired and cannot be renewed",
    });
    await h.c.reaper.tick();
    expect(await rejection(h.c.leases.renewLease(h.owner, META, { leaseId: short.lease.id, ttl: 60 }))).toEqual({
      status: 400,
      message: "This lease has expired and cannot be renewed",
    });

    const revoked = await create();
    await h.c.leases.revokeLease(h.owner, META, { leaseId: revoked.lease.id });
    expect(await rejection(h.c.leases.renewLease(h.owner, META, { leaseId: revoked.lease.id, ttl: 60 }))).toEqual({
      status: 400,
      message: `Lease has already been revoked at ${pythonDatetime(h.t.clock.now())}`,
    });
    const unchanged = await leaseRow(h, revoked.lease.id);
    expect(unchanged.ttl_seconds).toBe(3600);
  });

  it("owners act on their own leases; others need Owner/Admin (Phase's 403 messages)", async () => {
    const dev = await createUserPrincipal(h, "DEVELOPER");
    const admin = await createUserPrincipal(h, "ADMIN");
    const mine = await create();
    expect(await rejection(h.c.leases.renewLease(dev, META, { leaseId: mine.lease.id, ttl: 60 }))).toEqual({
      status: 403,
      message: "You don't have permission to update leases for other accounts.",
    });
    expect(await rejection(h.c.leases.revokeLease(dev, META, { leaseId: mine.lease.id }))).toEqual({
      status: 403,
      message: "You don't have permission to delete leases for other accounts.",
    });
    expect((await leaseRow(h, mine.lease.id)).status).toBe("ACTIVE");

    const devLease = await h.c.leases.createLease(dev, META, { secretId, ttl: 120 });
    expect(devLease.lease.owner).toMatchObject({ type: "user", id: dev.id });
    expect((await h.c.leases.renewLease(dev, META, { leaseId: devLease.lease.id, ttl: 60 })).ttl).toBe(180);
    expect((await h.c.leases.revokeLease(admin, META, { leaseId: mine.lease.id })).outcome).toBe("revoked");
    expect((await h.c.leases.revokeLease(dev, META, { leaseId: devLease.lease.id })).outcome).toBe("revoked");
  });

  it("unknown leases and leases of another environment are 404 'Lease not found'", async () => {
    const { lease } = await create();
    const other = (await h.c.appService.createApp("other-app", ["Dev"])).environments[0]!.id;
    const nf = { status: 404, message: "Lease not found" };
    expect(await rejection(h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id, environmentId: other }))).toEqual(nf);
    expect(await rejection(h.c.leases.renewLease(h.owner, META, { leaseId: "not-a-uuid", ttl: 60 }))).toEqual(nf);
    expect(await rejection(h.c.leases.getLease({ leaseId: "00000000-0000-4000-8000-000000000000" }))).toEqual(nf);
    expect((await leaseRow(h, lease.id)).status).toBe("ACTIVE");
  });

  it("lists a definition's leases newest first", async () => {
    const before = await h.c.leases.listLeases({ secretId });
    h.t.clock.advance(1_000);
    const a = await create();
    h.t.clock.advance(1_000);
    const b = await create();
    const listed = await h.c.leases.listLeases({ secretId, environmentId: h.envId });
    expect(listed.slice(0, 2).map((l) => l.id)).toEqual([b.lease.id, a.lease.id]);
    expect(listed).toHaveLength(before.length + 2);
    expect(await rejection(h.c.leases.listLeases({ secretId: "00000000-0000-4000-8000-000000000000" }))).toEqual({ status: 404, message: "Secret not found" });
  });

  it("leaves no role behind once everything is revoked", async () => {
    for (const l of await h.c.leases.listLeases({ secretId })) {
      if (l.status === "ACTIVE") await h.c.leases.revokeLease(h.owner, META, { leaseId: l.id });
    }
    // Concurrent revocations on one database can collide on its ACLs ("tuple concurrently
    // updated", retryable): those leases are simply due again a few seconds later.
    await drain(h);
    expect(await rolesWithPrefix(h)).toEqual([]);
    const statuses = await h.t.db.query<{ status: string }>("SELECT DISTINCT status::text FROM leases ORDER BY 1");
    expect(statuses.map((r) => r.status)).toEqual(["EXPIRED", "REVOKED"]);
  });
});
