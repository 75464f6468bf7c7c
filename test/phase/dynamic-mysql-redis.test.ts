import { randomBytes } from "node:crypto";
import type mysql from "mysql2/promise";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlLogin, mysqlRoot, mysqlUserHosts } from "../providers/mysql-helpers.js";
import { deleteAclUsers, redisLogin, redisRoot } from "../providers/redis-helpers.js";
import { drainReaper, dynamicFixture, type DynamicFixture } from "./dynamic-helpers.js";

type Creds = Record<string, string>;

/** Phase's API end to end with the mysql (local MariaDB) and redis (local Redis) providers. */
describe("dynamic secrets with the mysql and redis providers", () => {
  const tag = randomBytes(3).toString("hex");
  const dbName = `lh_e2e_${tag}`;
  const mysqlPrefix = `m${tag}`; // 7 characters: names stay within MySQL's 32
  const redisPrefix = `r${tag}`;
  let f: DynamicFixture;
  let root: mysql.Connection;
  let redis: Redis;

  const mysqlConfig = (extra: Record<string, unknown> = {}) => ({
    connection_url: `mysql://{{username}}:{{password}}@127.0.0.1:3306/${dbName}`,
    username: "root",
    password: "",
    creation_statements: `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON ${dbName}.* TO '{{name}}'@'%';`,
    username_prefix: mysqlPrefix,
    ...extra,
  });
  const redisConfig = (extra: Record<string, unknown> = {}) => ({
    connection_url: "redis://{{username}}:{{password}}@127.0.0.1:6379/0",
    username: "default",
    password: "",
    creation_statements: `~${redisPrefix}:* +get +set`,
    username_prefix: redisPrefix,
    ...extra,
  });
  const define = (name: string, provider: string, config: Record<string, unknown>) =>
    f.call("POST", f.url(), f.owner.auth, { name, path: `/${provider}/${name}`, provider, config, default_ttl: 600, max_ttl: 3600 });
  /** A lease through Phase's GET ?lease=true as the service account; its credentials by key name. */
  async function lease(secretId: string): Promise<{ id: string; creds: Creds }> {
    const res = await f.call("GET", f.url("", { id: secretId, lease: "true" }), f.sa.auth);
    expect(res.status).toBe(200);
    const l = res.body[0].lease;
    expect(l).toMatchObject({ status: "active", ttl: "00:10:00", secret: secretId });
    return { id: l.id, creds: Object.fromEntries(l.credentials.map((c: { key: string; value: string }) => [c.key, c.value])) };
  }

  beforeAll(async () => {
    root = await mysqlRoot();
    await root.query(`CREATE DATABASE ${dbName}`);
    await root.query(`CREATE TABLE ${dbName}.reports (id int primary key, body text)`);
    await root.query(`INSERT INTO ${dbName}.reports VALUES (1, 'q3')`);
    redis = await redisRoot();
    f = await dynamicFixture();
  });
  afterAll(async () => {
    await f?.close();
    const [users] = await root.query<mysql.RowDataPacket[]>("SELECT User AS u, Host AS h FROM mysql.user WHERE User LIKE ?", [`${mysqlPrefix}\\_%`]);
    for (const u of users) await root.query("DROP USER IF EXISTS ?@?", [u["u"], u["h"]]);
    await root?.query(`DROP DATABASE IF EXISTS ${dbName}`);
    await root?.end();
    if (redis) await deleteAclUsers(redis, redisPrefix);
    redis?.disconnect();
  });

  it("mysql: define (connection checked), lease, log in and query, list, revoke; the user is gone", async () => {
    const def = await define("reports-reader", "mysql", mysqlConfig());
    expect(def.status).toBe(201);
    expect(def.body).toMatchObject({ provider: "mysql", path: "/mysql/reports-reader", lease: null });
    expect(def.body.keyMap.map((k: { keyName: string; masked: boolean }) => [k.keyName, k.masked])).toEqual([
      ["DB_USERNAME", false],
      ["DB_PASSWORD", true],
      ["DB_CONNECTION_URL", true],
    ]);

    const { id, creds } = await lease(def.body.id);
    const name = creds["DB_USERNAME"]!;
    expect(name).toMatch(new RegExp(`^${mysqlPrefix}_reports_reade_[a-z0-9]{10}$`)); // 32 characters at most
    expect(creds["DB_CONNECTION_URL"]).toBe(`mysql://${name}:${creds["DB_PASSWORD"]}@127.0.0.1:3306/${dbName}`);
    const c = await mysqlLogin(name, creds["DB_PASSWORD"]!, dbName);
    expect((await c.query("SELECT body FROM reports"))[0]).toEqual([{ body: "q3" }]);
    await c.end();

    const listed = await f.call("GET", f.url("leases/", { secret_id: def.body.id }), f.sa.auth);
    expect(listed.status).toBe(200);
    expect(listed.body.map((l: { id: string; status: string; credentials: unknown[] }) => [l.id, l.status, l.credentials])).toEqual([[id, "active", []]]);
    expect(listed.text).not.toContain(creds["DB_PASSWORD"]);

    expect(await f.call("DELETE", f.url("leases/"), f.sa.auth, { lease_id: id })).toMatchObject({ status: 200, body: { message: "Lease revoked successfully" } });
    expect(await mysqlUserHosts(root, name)).toEqual([]);
    await expect(mysqlLogin(name, creds["DB_PASSWORD"]!, dbName)).rejects.toThrow(/^Access denied for user/);
    const [row] = await f.t.db.query<{ status: string }>("SELECT status::text FROM leases WHERE id = $1", [id]);
    expect(row).toEqual({ status: "REVOKED" });
  });

  it("mysql: an expired lease's user is dropped by the reaper", async () => {
    const def = await define("expiring", "mysql", mysqlConfig());
    expect(def.status).toBe(201);
    const { id, creds } = await lease(def.body.id);
    expect(await mysqlUserHosts(root, creds["DB_USERNAME"]!)).toEqual(["%"]);
    f.t.clock.advance(601_000);
    await drainReaper(f);
    expect(await mysqlUserHosts(root, creds["DB_USERNAME"]!)).toEqual([]);
    const [row] = await f.t.db.query<{ status: string }>("SELECT status::text FROM leases WHERE id = $1", [id]);
    expect(row).toEqual({ status: "EXPIRED" });
  });

  it("redis: define, lease, permitted and forbidden commands, revoke; the ACL user is gone", async () => {
    const def = await define("cache", "redis", redisConfig());
    expect(def.status).toBe(201);
    expect(def.body.keyMap.map((k: { keyName: string; masked: boolean }) => [k.keyName, k.masked])).toEqual([
      ["REDIS_USERNAME", false],
      ["REDIS_PASSWORD", true],
      ["REDIS_URL", true],
    ]);
    const { id, creds } = await lease(def.body.id);
    const name = creds["REDIS_USERNAME"]!;
    expect(creds["REDIS_URL"]).toBe(`redis://${name}:${creds["REDIS_PASSWORD"]}@127.0.0.1:6379/0`);
    const c = await redisLogin(name, creds["REDIS_PASSWORD"]!);
    expect(await c.set(`${redisPrefix}:k`, "v")).toBe("OK");
    await expect(c.del(`${redisPrefix}:k`)).rejects.toThrow(/^NOPERM/);
    c.disconnect();
    await redis.del(`${redisPrefix}:k`);

    expect(await f.call("DELETE", f.url("leases/"), f.sa.auth, { lease_id: id })).toMatchObject({ status: 200, body: { message: "Lease revoked successfully" } });
    expect(await redis.call("ACL", ["GETUSER", name])).toBeNull();
    await expect(redisLogin(name, creds["REDIS_PASSWORD"]!)).rejects.toThrow(/^WRONGPASS/);
  });

  it("bad configs are 400s naming the problem, and nothing is stored", async () => {
    const [{ n: before }] = (await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM dynamic_secrets")) as [{ n: number }];
    const cases: [string, Record<string, unknown>, string][] = [
      ["mysql", mysqlConfig({ creation_statements: "CREATE USER x" }), "Invalid config: creation_statements: must use {{name}} (the user to create)"],
      ["mysql", mysqlConfig({ connection_url: "mysql://{{user}}@db/x" }), "Invalid config: connection_url: unknown template variable {{user}}; allowed: {{username}}, {{password}}"],
      ["mysql", mysqlConfig({ username_prefix: "toolongpx" }), "Invalid config: username_prefix: must be 1-8 lower-case letters or digits, starting with a letter"],
      ["redis", redisConfig({ creation_statements: "+get nopass" }), "Invalid config: creation_statements: ACL rule 'nopass' is not allowed: passwords are set by the provider"],
      ["redis", redisConfig({ connection_url: "redis://{{username}}:{{password}}@127.0.0.1:1/0" }), "The connection test failed: Redis connection test failed: connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)"],
    ];
    for (const [provider, config, error] of cases) {
      const res = await define(`bad-${provider}`, provider, config);
      expect({ status: res.status, body: res.body }, error).toEqual({ status: 400, body: { error } });
    }
    expect((await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM dynamic_secrets"))[0]!.n).toBe(before);
  });
});
