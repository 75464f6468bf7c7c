import { rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDataDir, startEmbedded, type EmbeddedServer } from "../embedded/support.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { dropRolesWithPrefix, META, pgConfig, type LeaseHarness } from "./helpers.js";

/**
 * The lease SQL (claim with SKIP LOCKED, data-modifying CTEs, advisory locks, make_interval) on
 * the embedded database (PGlite, one connection), with a real PostgreSQL as the provider target.
 */
describe("leases on the embedded database", { timeout: 60_000 }, () => {
  let s: EmbeddedServer;
  let dir: string;
  let target: TestDatabase;
  const prefix = `e${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    dir = await freshDataDir();
    target = await createTestDatabase();
    await target.query("CREATE TABLE reports (id int primary key, body text)");
    s = await startEmbedded(dir, { LEASEHOLD_REAPER_SCHEDULE: "off", LEASEHOLD_BOOTSTRAP_TOKEN: randomBytes(32).toString("hex") });
  });
  afterAll(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
    await target?.drop();
    await dropRolesWithPrefix(prefix);
  });

  it("creates, renews, revokes; deleting the definition queues the rest for the reaper", async () => {
    const c = s.server.container;
    expect(c.db.kind).toBe("embedded");
    const owner = await c.authenticator.authenticate({ type: undefined, token: s.config.LEASEHOLD_BOOTSTRAP_TOKEN! });
    const env = (await c.appService.createApp("embedded", ["Dev"])).environments[0]!.id;
    const h = { t: { db: target }, prefix } as unknown as LeaseHarness;
    const def = await c.dynamicSecrets.create(owner, { environmentId: env, name: "r", provider: "postgresql", config: pgConfig(h), defaultTtl: 600, maxTtl: 1200 });

    const a = await c.leases.createLease(owner, META, { secretId: def.id });
    const b = await c.leases.createLease(owner, META, { secretId: def.id });
    expect(a.lease.status).toBe("ACTIVE");
    expect((await c.leases.renewLease(owner, META, { leaseId: a.lease.id, ttl: 60 })).ttl).toBe(660);
    expect((await c.leases.revokeLease(owner, META, { leaseId: a.lease.id })).outcome).toBe("revoked");

    expect(await c.dynamicSecrets.delete(owner, def.id, { principal: owner })).toEqual({ revokingLeases: 1 });
    expect(await c.reaper.tick()).toMatchObject({ claimed: 1, revoked: 1 });
    expect((await c.leases.getLease({ leaseId: b.lease.id })).status).toBe("EXPIRED");
    expect(await target.query("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", [`${prefix}_`])).toEqual([]);
    const types = (await c.db.prisma.leaseEvent.findMany({ where: { leaseId: a.lease.id }, orderBy: { id: "asc" } })).map((e) => e.eventType);
    expect(types).toEqual(["created", "renewed", "revoke_requested", "revoked"]);
  });
});
