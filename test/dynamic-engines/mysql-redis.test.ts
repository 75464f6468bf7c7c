import { randomBytes } from "node:crypto";
import type mysql from "mysql2/promise";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlLogin, mysqlRoot, mysqlUserHosts } from "../providers/mysql-helpers.js";
import { deleteAclUsers, redisAclUser, redisLogin, redisRoot } from "../providers/redis-helpers.js";
import { engineFixture, type EngineFixture } from "./helpers.js";

/**
 * The /v1/dynamic/ engine surface with the mysql (local MariaDB) and redis (local Redis) plugins:
 * engine create (connection tested with a root that has a password), role, creds, login, revoke.
 */
describe("mysql and redis engines", () => {
  const tag = randomBytes(3).toString("hex");
  const dbName = `lh_eng_${tag}`;
  const mysqlAdmin = `lhadm_${tag}`;
  const redisAdmin = `lhadm_${tag}`;
  const adminPassword = randomBytes(12).toString("hex");
  let f: EngineFixture;
  let root: mysql.Connection;
  let redis: Redis;

  beforeAll(async () => {
    root = await mysqlRoot();
    await root.query(`CREATE DATABASE ${dbName}`);
    await root.query(`CREATE TABLE ${dbName}.t (id int primary key)`);
    await root.query(`CREATE USER '${mysqlAdmin}'@'%' IDENTIFIED BY '${adminPassword}'`);
    await root.query(`GRANT ALL PRIVILEGES ON *.* TO '${mysqlAdmin}'@'%' WITH GRANT OPTION`);
    redis = await redisRoot();
    await redisAclUser(redis, redisAdmin, adminPassword, ["~*", "&*", "+@all"]);
    f = await engineFixture();
  });
  afterAll(async () => {
    await f?.close();
    await root?.query(`DROP DATABASE IF EXISTS ${dbName}`);
    await root?.query(`DROP USER IF EXISTS '${mysqlAdmin}'@'%'`);
    await root?.end();
    if (redis) {
      await deleteAclUsers(redis, `r${tag}`);
      await redis.call("ACL", "DELUSER", redisAdmin);
      redis.disconnect();
    }
  });

  it("mysql: wrong root password is 400 invalid_config; creds log in; revoking drops the user", async () => {
    const body = (password: string) => ({
      name: `maria-${tag}`,
      type: "database",
      config: { plugin: "mysql", connection_url: `mysql://{{username}}:{{password}}@127.0.0.1:3306/${dbName}`, root_credentials: { username: mysqlAdmin, password } },
      default_ttl: "1h",
      max_ttl: "24h",
    });
    const bad = await f.call("POST", "/v1/dynamic/engines", f.admin, body("wrong-password"));
    expect([bad.status, bad.body.code]).toEqual([400, "invalid_config"]);
    expect(bad.text).not.toContain("wrong-password");
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, body(adminPassword))).status).toBe(201);
    const role = await f.call("POST", `/v1/dynamic/engines/maria-${tag}/roles`, f.admin, {
      name: "reader",
      creation_statements: [`CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`, `GRANT SELECT ON ${dbName}.* TO '{{name}}'@'%'`],
      default_ttl: "15m",
      max_ttl: "1h",
    });
    expect(role.status).toBe(201);

    const creds = await f.call("POST", `/v1/dynamic/engines/maria-${tag}/creds/reader`, f.admin, { ttl: "10m" });
    expect(creds.status).toBe(200);
    const { username, password } = creds.body.data;
    expect(creds.body.data).toMatchObject({ host: "127.0.0.1", port: 3306, database: dbName });
    expect(creds.body.lease_id).toMatch(/^lease_/);
    const c = await mysqlLogin(username, password, dbName);
    const [rows] = await c.query("SELECT count(*) AS n FROM t");
    expect(rows).toEqual([{ n: 0 }]);
    await c.end();

    expect((await f.call("DELETE", `/v1/dynamic/leases/${creds.body.lease_id}`, f.admin)).status).toBe(200);
    expect(await mysqlUserHosts(root, username)).toEqual([]);
    await expect(mysqlLogin(username, password, dbName)).rejects.toThrow(/^Access denied for user/);
    expect(f.bodies.join("\n")).not.toContain(adminPassword);
  });

  it("redis: creds authenticate with the role's rules; revoking deletes the ACL user", async () => {
    const engine = await f.call("POST", "/v1/dynamic/engines", f.admin, {
      name: `cache-${tag}`,
      type: "database",
      config: { plugin: "redis", connection_url: "redis://{{username}}:{{password}}@127.0.0.1:6379/0", root_credentials: { username: redisAdmin, password: adminPassword } },
      default_ttl: "1h",
      max_ttl: "24h",
    });
    expect(engine.status).toBe(201);
    const role = await f.call("POST", `/v1/dynamic/engines/cache-${tag}/roles`, f.admin, {
      name: "rw",
      creation_statements: `~r${tag}:* +get +set`,
      default_ttl: "15m",
      max_ttl: "1h",
    });
    expect(role.status).toBe(201);
    const creds = await f.call("POST", `/v1/dynamic/engines/cache-${tag}/creds/rw`, f.admin, {});
    expect(creds.status).toBe(200);
    const { username, password } = creds.body.data;
    const c = await redisLogin(username, password);
    expect(await c.set(`r${tag}:k`, "v")).toBe("OK");
    await expect(c.call("FLUSHALL")).rejects.toThrow(/NOPERM/);
    c.disconnect();

    expect((await f.call("DELETE", `/v1/dynamic/leases/${creds.body.lease_id}`, f.admin)).status).toBe(200);
    await expect(redisLogin(username, password)).rejects.toThrow(/^WRONGPASS/);
    expect(f.bodies.join("\n")).not.toContain(adminPassword);
  });
});
