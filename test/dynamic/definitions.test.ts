import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPgDefinition,
  createUserPrincipal,
  leaseRow,
  META,
  pgConfig,
  rejection,
  ROOT_PASSWORD,
  rolesWithPrefix,
  startLeaseHarness,
  type LeaseHarness,
} from "../leases/helpers.js";

describe("dynamic secret definitions", () => {
  let h: LeaseHarness;
  beforeAll(async () => {
    h = await startLeaseHarness();
  });
  afterAll(async () => h?.close());

  it("creates a definition: sealed config and key map, default key map with digests, no secret field in any read", async () => {
    const def = await createPgDefinition(h, { name: "billing", path: "/db/", defaultTtl: 300, maxTtl: 900 });
    expect(def).toMatchObject({ name: "billing", path: "/db", provider: "postgresql", defaultTtl: 300, maxTtl: 900, environmentId: h.envId, appId: h.appId, deletedAt: null });
    expect(def.keyMap.map((k) => [k.id, k.keyName, k.masked])).toEqual([
      ["username", "DB_USERNAME", false],
      ["password", "DB_PASSWORD", true],
      ["connection_url", "DATABASE_URL", true],
    ]);
    expect(def.config).not.toHaveProperty("password");
    expect(def.config).toMatchObject({ username: "postgres", username_prefix: h.prefix });
    const [row] = await h.t.db.query<{ config_cipher: Buffer; key_map_cipher: Buffer; key_digests: string[]; folder_id: string | null }>(
      "SELECT config_cipher, key_map_cipher, key_digests, folder_id FROM dynamic_secrets WHERE id = $1",
      [def.id],
    );
    expect(row!.config_cipher.includes(Buffer.from(ROOT_PASSWORD))).toBe(false);
    expect(row!.key_map_cipher.includes(Buffer.from("DB_PASSWORD"))).toBe(false);
    expect(row!.key_digests).toEqual(def.keyMap.map((k) => k.keyDigest));
    expect(row!.key_digests.every((d) => /^[0-9a-f]{64}$/.test(d))).toBe(true);
    const folders = await h.t.db.query("SELECT path FROM folders WHERE environment_id = $1 ORDER BY path", [h.envId]);
    expect(folders).toEqual([{ path: "/db" }]);
    expect(row!.folder_id).not.toBeNull();

    for (const read of [await h.c.dynamicSecrets.get(def.id), ...(await h.c.dynamicSecrets.list(h.envId, { path: "/db" }))]) {
      expect(JSON.stringify(read)).not.toContain(ROOT_PASSWORD);
    }
    expect((await h.c.dynamicSecrets.list(h.envId, { name: "billing" })).map((d) => d.id)).toEqual([def.id]);
    expect(await h.c.dynamicSecrets.list(h.envId, { path: "/other" })).toEqual([]);
    expect(await h.c.dynamicSecrets.isKeyDigestTaken(h.envId, "/db", def.keyMap[1]!.keyDigest)).toBe(true);
    expect(await h.c.dynamicSecrets.isKeyDigestTaken(h.envId, "/", def.keyMap[1]!.keyDigest)).toBe(false);
    // Phase's secret_id context finds the environment of a dynamic secret too.
    expect(await h.c.contexts.resolve({ secretId: def.id })).toMatchObject({ mode: "environment", environment: { id: h.envId } });
  });

  it("validates input with clear 400s and changes nothing", async () => {
    const base = { environmentId: h.envId, name: "bad", provider: "postgresql", config: pgConfig(h), defaultTtl: 300, maxTtl: 600 };
    const cases: [Record<string, unknown>, string][] = [
      [{ provider: "nope" }, "Unknown provider 'nope'."],
      [{ defaultTtl: 59 }, "Invalid defaultTtl: must be at least 60 seconds"],
      [{ defaultTtl: 900 }, "default_ttl must not exceed max_ttl."],
      [{ name: "a/b" }, "Invalid name: must not contain '/'"],
      [{ config: { ...pgConfig(h), connection_url: "mysql://x" } }, "Invalid config: connection_url: must start with postgresql:// or postgres://"],
      [{ config: { ...pgConfig(h), password: undefined } }, "Invalid config: password: Invalid input: expected string, received undefined"],
      [{ keyMap: [{ id: "token", key_name: "X" }] }, "Unknown key_map id 'token'; this provider outputs: username, password, connection_url."],
      [{ keyMap: [{ id: "username", key_name: "1BAD" }] }, "Invalid key name '1BAD': use letters, digits and underscores, not starting with a digit."],
      [{ keyMap: [{ id: "username", key_name: "db_password" }] }, "Key name 'DB_PASSWORD' is used twice in key_map."],
    ];
    for (const [patch, message] of cases) {
      expect(await rejection(h.c.dynamicSecrets.create(h.owner, { ...base, ...patch } as never)), JSON.stringify(patch)).toEqual({ status: 400, message });
    }
    const unreachable = { ...pgConfig(h), connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:1/x" };
    const failed = await rejection(h.c.dynamicSecrets.create(h.owner, { ...base, config: unreachable }));
    expect(failed.status).toBe(400);
    expect(failed.message).toMatch(/^The connection test failed: /);
    expect(failed.message).not.toContain(ROOT_PASSWORD);
    expect(await h.c.dynamicSecrets.list(h.envId, { name: "bad" })).toEqual([]);

    const dev = await createUserPrincipal(h, "DEVELOPER");
    expect(await rejection(h.c.dynamicSecrets.create(dev, base))).toEqual({ status: 403, message: "Only an Owner or Admin can manage dynamic secrets." });
  });

  it("refuses a second definition with the same name, or a key name already used at the path", async () => {
    await createPgDefinition(h, { name: "dup", path: "/dup" });
    expect(await rejection(createPgDefinition(h, { name: "dup", path: "/dup" }))).toEqual({
      status: 409,
      message: "A secret with one of these key names already exists at this path.",
    });
    const renamed = { environmentId: h.envId, path: "/dup", provider: "postgresql", config: pgConfig(h), defaultTtl: 300, maxTtl: 600 };
    const keyMap = [
      { id: "username", key_name: "U2" },
      { id: "password", key_name: "P2" },
      { id: "connection_url", key_name: "URL2" },
    ];
    expect(await rejection(h.c.dynamicSecrets.create(h.owner, { ...renamed, name: "dup", keyMap }))).toEqual({
      status: 409,
      message: "A dynamic secret named 'dup' already exists at this path.",
    });
    const other = await h.c.dynamicSecrets.create(h.owner, { ...renamed, name: "dup2", keyMap });
    expect(other.keyMap.map((k) => k.keyName)).toEqual(["U2", "P2", "URL2"]);

    // A static secret at the path takes its key name.
    const token = await h.c.identityService.issueToken({ kind: "USER", id: h.owner.id }, "static");
    const res = await h.t.http
      .post(`/v1/secrets/?app_id=${h.appId}&env=Development`)
      .set("Authorization", `Bearer User ${token.token}`)
      .send({ secrets: [{ key: "STATIC_KEY", value: "v", comment: "", path: "/static" }] });
    expect(res.status).toBe(200);
    const clash = [{ id: "username", key_name: "static_key" }];
    expect(await rejection(h.c.dynamicSecrets.create(h.owner, { ...renamed, path: "/static", name: "s", keyMap: clash }))).toEqual({
      status: 409,
      message: "A secret with one of these key names already exists at this path.",
    });
  });

  it("updates: omitted secret fields are kept, key names re-digested, leases keep their own snapshot", async () => {
    const def = await createPgDefinition(h, { name: "editable", path: "/edit" });
    const { lease } = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const { password: _omit, ...withoutPassword } = pgConfig(h);
    // Point the definition at a dead port (no connection check): old leases must still revoke.
    const broken = await h.c.dynamicSecrets.update(h.owner, def.id, {
      description: "moved",
      config: { ...withoutPassword, connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:1/x" },
      keyMap: [{ id: "password", key_name: "PGPASSWORD" }],
      verifyConnection: false,
      maxTtl: 7300,
    });
    expect(broken).toMatchObject({ description: "moved", maxTtl: 7300 });
    expect(broken.keyMap.map((k) => k.keyName)).toEqual(["PGPASSWORD", "DB_USERNAME", "DATABASE_URL"]);
    expect(broken.keyMap[0]!.keyDigest).not.toBe(def.keyMap[1]!.keyDigest);
    expect(JSON.stringify(broken)).not.toContain(ROOT_PASSWORD);

    expect((await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id })).outcome).toBe("revoked");
    expect(await h.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [lease.upstreamIdentity])).toEqual([]);

    // Back to the real target without resending the password: it was kept.
    await h.c.dynamicSecrets.update(h.owner, def.id, { config: withoutPassword });
    const next = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 60 });
    expect(next.credentials.map((c) => c.key)).toEqual(["PGPASSWORD", "DB_USERNAME", "DATABASE_URL"]);
    await h.c.leases.revokeLease(h.owner, META, { leaseId: next.lease.id });
    expect(await rejection(h.c.dynamicSecrets.update(h.owner, def.id, { defaultTtl: 8000 }))).toEqual({ status: 400, message: "default_ttl must not exceed max_ttl." });
  });

  it("delete: soft delete, every live lease revoked by the reaper and marked EXPIRED (Phase)", async () => {
    const def = await createPgDefinition(h, { name: "doomed", path: "/doomed" });
    const a = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const b = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const done = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    await h.c.leases.revokeLease(h.owner, META, { leaseId: done.lease.id });

    const dev = await createUserPrincipal(h, "DEVELOPER");
    expect(await rejection(h.c.dynamicSecrets.delete(dev, def.id, { principal: dev }))).toEqual({ status: 403, message: "Only an Owner or Admin can manage dynamic secrets." });
    expect(await h.c.dynamicSecrets.delete(h.owner, def.id, { principal: h.owner, ...META })).toEqual({ revokingLeases: 2 });
    expect(await rejection(h.c.dynamicSecrets.get(def.id))).toEqual({ status: 404, message: "Dynamic secret not found" });
    expect(await rejection(h.c.dynamicSecrets.delete(h.owner, def.id, { principal: h.owner }))).toEqual({ status: 404, message: "Dynamic secret not found" });
    expect(await rejection(h.c.leases.createLease(h.owner, META, { secretId: def.id }))).toEqual({ status: 404, message: "Dynamic secret not found" });
    expect(await leaseRow(h, a.lease.id)).toMatchObject({ status: "REVOKING", revoke_reason: "definition_deleted" });

    // The lease of a deleted definition can still be revoked by hand, from its own snapshot...
    expect((await h.c.leases.revokeLease(h.owner, META, { leaseId: a.lease.id })).outcome).toBe("revoked");
    expect(await leaseRow(h, a.lease.id)).toMatchObject({ status: "EXPIRED", revoke_reason: "definition_deleted" });
    // ...and the reaper takes the rest at once (no need to wait for expiry).
    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, revoked: 1 });
    expect(await leaseRow(h, b.lease.id)).toMatchObject({ status: "EXPIRED", revoke_reason: "definition_deleted" });
    expect(await leaseRow(h, done.lease.id)).toMatchObject({ status: "REVOKED" });
    for (const l of [a, b]) expect(await h.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [l.lease.upstreamIdentity])).toEqual([]);
    // A new definition may take the name again.
    expect((await createPgDefinition(h, { name: "doomed", path: "/doomed" })).id).not.toBe(def.id);
  });

  it("deleting the whole app keeps its leases revocable: the reaper still revokes them at expiry", async () => {
    const app = await h.c.appService.createApp("short-lived", ["Dev"]);
    const env = app.environments[0]!.id;
    await h.t.db.query("CREATE TABLE IF NOT EXISTS reports (id int primary key, body text)");
    const def = await h.c.dynamicSecrets.create(h.owner, { environmentId: env, name: "x", provider: "postgresql", config: pgConfig(h), defaultTtl: 60, maxTtl: 60 });
    const { lease } = await h.c.leases.createLease(h.owner, META, { secretId: def.id });
    await h.c.appService.deleteApp(app.id);
    expect(await h.t.db.query("SELECT 1 FROM dynamic_secrets WHERE id = $1", [def.id])).toEqual([]);
    expect(await leaseRow(h, lease.id)).toMatchObject({ status: "ACTIVE" });
    h.t.clock.advance(60_000);
    await h.c.reaper.tick();
    expect(await leaseRow(h, lease.id)).toMatchObject({ status: "EXPIRED" });
    expect(await h.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [lease.upstreamIdentity])).toEqual([]);
    expect(await rolesWithPrefix(h)).toEqual([]);
  });
});
