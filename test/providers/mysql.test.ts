import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMysqlProvider, mysqlDatetime, type MysqlConfig } from "../../src/providers/mysql.js";
import { splitMysqlStatements } from "../../src/providers/mysql-statements.js";
import { ProviderError, type CreateContext } from "../../src/providers/provider.js";
import { mysqlLogin, mysqlRoot, mysqlUserHosts } from "./mysql-helpers.js";

const EXPIRES = new Date("2030-01-01T10:00:00.250Z");
const ctx = (): CreateContext => ({ leaseId: "lease-1", roleName: "Reader", expiresAt: EXPIRES, ttlSeconds: 3600 });

describe("MySQL provider (real MariaDB)", () => {
  const dbName = `lh_mysql_${randomBytes(4).toString("hex")}`;
  const provider = createMysqlProvider();
  const created = new Set<string>();
  let root: mysql.Connection;

  function config(extra: Record<string, unknown> = {}): MysqlConfig {
    return provider.configSchema.parse({
      connection_url: `mysql://{{username}}:{{password}}@127.0.0.1:3306/${dbName}`,
      username: "root",
      password: "",
      creation_statements: `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON ${dbName}.* TO '{{name}}'@'%';`,
      ...extra,
    });
  }
  async function issue(cfg: MysqlConfig) {
    const planned = provider.plan(cfg, ctx());
    created.add(planned.identity);
    const cred = await provider.create(cfg, planned, ctx());
    return { cred, name: planned.identity, password: planned.secrets.password as string };
  }
  const hosts = (name: string) => mysqlUserHosts(root, name);
  const login = (name: string, password: string) => mysqlLogin(name, password, dbName);

  beforeAll(async () => {
    root = await mysqlRoot();
    await root.query(`CREATE DATABASE ${dbName}`);
    await root.query(`CREATE TABLE ${dbName}.reports (id int primary key, body text)`);
    await root.query(`INSERT INTO ${dbName}.reports VALUES (1, 'q3')`);
  });
  afterAll(async () => {
    await provider.close();
    for (const name of created) {
      for (const host of await hosts(name)) await root.query("DROP USER IF EXISTS ?@?", [name, host]);
    }
    await root?.query(`DROP DATABASE IF EXISTS ${dbName}`);
    await root?.end();
  });

  it("plans names within MySQL's 32 characters and URL-safe passwords, with no side effect", async () => {
    const p = provider.plan(config(), { leaseId: "l", roleName: "Billing Read-Only!" });
    expect(p.identity).toMatch(/^v_billing_read_only_[a-z0-9]{10}$/);
    expect(p.secrets.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const long = provider.plan(config({ username_prefix: "abcdefgh" }), { leaseId: "l", roleName: "a very long definition name indeed" });
    expect(long.identity).toMatch(/^abcdefgh_a_very_long_[a-z0-9]{10}$/);
    expect(long.identity.length).toBeLessThanOrEqual(32);
    expect(await hosts(p.identity)).toEqual([]);
  });

  it("creates a user from a two-statement string: it logs in, reads the granted table and nothing more", async () => {
    const { cred, name, password } = await issue(config());
    expect(cred.outputs).toEqual({
      username: name,
      password,
      connection_url: `mysql://${name}:${password}@127.0.0.1:3306/${dbName}`,
    });
    expect(cred.revocation).toEqual({ identity: name });
    expect(await hosts(name)).toEqual(["%"]);
    const c = await login(name, password);
    try {
      const [rows] = await c.query("SELECT body, CURRENT_USER() AS who FROM reports");
      expect(rows).toEqual([{ body: "q3", who: `${name}@%` }]);
      await expect(c.query("INSERT INTO reports VALUES (2, 'x')")).rejects.toMatchObject({ code: "ER_TABLEACCESS_DENIED_ERROR" });
    } finally {
      await c.end();
    }
    await expect(login(name, `${password}x`)).rejects.toMatchObject({ code: "ER_ACCESS_DENIED_ERROR" });
  });

  it("revoke drops the user and kills its open session; a new login then fails", async () => {
    const { name, password } = await issue(config());
    const session = await login(name, password);
    session.on("error", () => undefined);
    await provider.revoke(config(), { identity: name });
    expect(await hosts(name)).toEqual([]);
    const [procs] = await root.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?", [name]);
    expect(procs).toEqual([{ n: 0 }]);
    await expect(session.query("SELECT 1")).rejects.toThrow();
    session.destroy();
    await expect(login(name, password)).rejects.toThrow(/^Access denied for user/);
  });

  it("revoke is idempotent: twice, or for a user that never existed", async () => {
    const { name } = await issue(config());
    await provider.revoke(config(), { identity: name });
    await expect(provider.revoke(config(), { identity: name })).resolves.toBeUndefined();
    await expect(provider.revoke(config(), { identity: "v_reader_neverexist" })).resolves.toBeUndefined();
  });

  it("a failing creation statement drops the user (any host) and is a permanent error", async () => {
    // The user is made for 'localhost' while the default revocation drops '%': the undo finds it anyway.
    const cfg = config({
      creation_statements: [`CREATE USER '{{name}}'@'localhost' IDENTIFIED BY '{{password}}'`, `GRANT SELECT ON ${dbName}.no_such_table TO '{{name}}'@'localhost'`],
    });
    const planned = provider.plan(cfg, ctx());
    created.add(planned.identity);
    const err = await provider.create(cfg, planned, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ retryable: false, code: "ER_NO_SUCH_TABLE" });
    expect((err as Error).message).toBe(`MySQL user creation failed: Table '${dbName}.no_such_table' doesn't exist (ER_NO_SUCH_TABLE)`);
    expect(provider.classifyError(err)).toBe("permanent");
    expect(await hosts(planned.identity)).toEqual([]);
  });

  it("scrubs the generated password from upstream error messages (a syntax error quoting it)", async () => {
    const cfg = config({ creation_statements: `CREATE USER '{{name}}'@'%' IDENTIFIED BY NONSENSE '{{password}}'` });
    const planned = provider.plan(cfg, ctx());
    created.add(planned.identity);
    const err = (await provider.create(cfg, planned, ctx()).catch((e: unknown) => e)) as ProviderError;
    expect(err).toMatchObject({ retryable: false, code: "ER_PARSE_ERROR" });
    expect(err.message).toContain("near 'NONSENSE '[REDACTED]'' at line 1 (ER_PARSE_ERROR)");
    expect(err.message).not.toContain(planned.secrets.password);
    expect(await hosts(planned.identity)).toEqual([]);
  });

  it("statements that never create the user are refused (permanent)", async () => {
    const cfg = config({ creation_statements: "SELECT '{{name}}'" });
    const err = await provider.create(cfg, provider.plan(cfg, ctx()), ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, code: "no_user", message: expect.stringMatching(/^creation_statements did not create user v_reader_/) });
  });

  it("passes {{expiration}} (UTC DATETIME) and {{ttl_seconds}} to creation statements", async () => {
    await root.query(`CREATE TABLE ${dbName}.issued (who varchar(64), until datetime, ttl int)`);
    const { name } = await issue(
      config({
        creation_statements: [
          `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`,
          `INSERT INTO ${dbName}.issued VALUES ('{{name}}', '{{expiration}}', {{ttl_seconds}})`,
        ],
      }),
    );
    const [rows] = await root.query(`SELECT who, DATE_FORMAT(until, '%Y-%m-%d %H:%i:%s') AS until, ttl FROM ${dbName}.issued`);
    expect(rows).toEqual([{ who: name, until: "2030-01-01 10:00:00", ttl: 3600 }]);
    expect(mysqlDatetime(EXPIRES)).toBe("2030-01-01 10:00:00");
  });

  it("custom revocation statements run in order; the lease keeps a snapshot of them", async () => {
    await root.query(`CREATE TABLE ${dbName}.revoked_log (who varchar(64))`);
    const revocation_statements = `INSERT INTO ${dbName}.revoked_log VALUES ('{{name}}'); DROP USER '{{name}}'@'%'`;
    const { name, cred } = await issue(config({ revocation_statements }));
    expect(cred.revocation).toEqual({
      identity: name,
      revocation_statements: [`INSERT INTO ${dbName}.revoked_log VALUES ('{{name}}')`, `DROP USER '{{name}}'@'%'`],
    });
    await provider.revoke(config(), cred.revocation); // the definition lost them meanwhile: the snapshot applies
    expect(await hosts(name)).toEqual([]);
    const [rows] = await root.query(`SELECT who FROM ${dbName}.revoked_log`);
    expect(rows).toEqual([{ who: name }]);
    await provider.revoke(config(), cred.revocation); // user gone: the statements are not run again
    expect((await root.query(`SELECT who FROM ${dbName}.revoked_log`))[0]).toEqual([{ who: name }]);
  });

  it("a lock held elsewhere ends in a lock wait timeout: retryable, and nothing is left behind", async () => {
    const p = createMysqlProvider({ lockWaitSeconds: 1 });
    const holder = await mysqlRoot();
    try {
      await holder.query(`LOCK TABLES ${dbName}.reports WRITE`);
      const cfg = config({ creation_statements: [`CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`, `ALTER TABLE ${dbName}.reports COMMENT 'x'`] });
      const planned = p.plan(cfg, ctx());
      created.add(planned.identity);
      const err = (await p.create(cfg, planned, ctx()).catch((e: unknown) => e)) as ProviderError;
      expect(err).toMatchObject({ retryable: true, code: "ER_LOCK_WAIT_TIMEOUT" });
      expect(err.message).not.toContain(planned.secrets.password);
      expect(await hosts(planned.identity)).toEqual([]);
    } finally {
      await holder.end();
      await p.close();
    }
  });

  it("keeps one pool per root configuration and ends them on close()", async () => {
    const p = createMysqlProvider();
    const a = p.poolFor(config());
    expect(p.poolFor(config())).toBe(a);
    expect(p.poolFor(config({ creation_statements: "CREATE USER '{{name}}'" }))).toBe(a);
    expect(p.poolFor(config({ password: "other" }))).not.toBe(a);
    await p.testConnection(config());
    await p.close();
    await expect(a.query("SELECT 1")).rejects.toThrow(/closed/i);
    expect(p.poolFor(config())).not.toBe(a);
    await p.close();
  });

  it("testConnection: unknown database and a wrong root password are permanent, a closed port retryable; no password in messages", async () => {
    const p = createMysqlProvider();
    try {
      await p.testConnection(config());
      const noDb = config({ connection_url: "mysql://{{username}}:{{password}}@127.0.0.1:3306/lh_no_such_db" });
      await expect(p.testConnection(noDb)).rejects.toMatchObject({ retryable: false, code: "ER_BAD_DB_ERROR" });
      const secret = "root-Pw-that-must-never-leak";
      const wrong = (await p.testConnection(config({ password: secret })).catch((e: unknown) => e)) as ProviderError;
      expect(wrong).toMatchObject({ retryable: false, code: "ER_ACCESS_DENIED_ERROR" });
      expect(wrong.message).toMatch(/^MySQL connection test failed: Access denied for user 'root'@/);
      expect(wrong.message).not.toContain(secret);
      const closed = config({ connection_url: "mysql://{{username}}:{{password}}@127.0.0.1:1/x", password: secret });
      const err = (await p.testConnection(closed).catch((e: unknown) => e)) as ProviderError;
      expect(err).toMatchObject({ retryable: true, code: "ECONNREFUSED" });
      expect(err.message).not.toContain(secret);
    } finally {
      await p.close();
    }
  });
});

describe("MySQL provider: config, statement splitting and classification", () => {
  const provider = createMysqlProvider();
  const base = {
    connection_url: "mysql://{{username}}:{{password}}@db:3306/app",
    username: "root",
    password: "pw",
    creation_statements: `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`,
  };

  it("splits a string (or each list item) on top-level ';' only, and defaults the rest", () => {
    const c = provider.configSchema.parse({
      ...base,
      creation_statements: [`CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON app.* TO '{{name}}'@'%';`, "FLUSH PRIVILEGES"],
    });
    expect(c.creation_statements).toEqual([
      `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`,
      `GRANT SELECT ON app.* TO '{{name}}'@'%'`,
      "FLUSH PRIVILEGES",
    ]);
    expect(c.revocation_statements).toBeUndefined();
    expect(c.username_prefix).toBe("v");
    expect(provider.configSchema.parse({ ...base, password: undefined }).password).toBe("");
    expect(provider.secretFields).toEqual(["password"]);
    expect(provider.defaultKeyMap.map((k) => [k.keyName, k.masked])).toEqual([
      ["DB_USERNAME", false],
      ["DB_PASSWORD", true],
      ["DB_CONNECTION_URL", true],
    ]);
  });

  it("the splitter ignores ';' in quotes (with escapes), identifiers and comments, and drops comment-only pieces", () => {
    const text = `SELECT 'a;b', "c;\\";d", 'e'';f', \`g;h\`; -- one; two
      # three; four
      /* five; six */ SELECT 2 ; /*!40101 SET x=1 */; -- trailing;`;
    expect(splitMysqlStatements(text)).toEqual([
      `SELECT 'a;b', "c;\\";d", 'e'';f', \`g;h\``,
      "-- one; two\n      # three; four\n      /* five; six */ SELECT 2",
      "/*!40101 SET x=1 */",
    ]);
    expect(splitMysqlStatements("SELECT 1--2; SELECT 3")).toEqual(["SELECT 1--2", "SELECT 3"]);
    expect(() => splitMysqlStatements("SELECT 'open")).toThrow("unterminated ' quote");
    expect(() => splitMysqlStatements("SELECT 1 /* open")).toThrow("unterminated /* comment");
  });

  it.each([
    [{ creation_statements: `CREATE USER '{{name}}' {{user}}` }, "unknown template variable {{user}}"],
    [{ creation_statements: "CREATE USER x" }, "must use {{name}}"],
    [{ revocation_statements: [`DROP USER '{{name}}' -- {{password}}`] }, "unknown template variable {{password}}"],
    [{ creation_statements: [] }, "at least one statement"],
    [{ creation_statements: " ; -- nothing" }, "at least one statement"],
    [{ creation_statements: `CREATE USER '{{name}}` }, "unterminated ' quote"],
    [{ connection_url: "postgresql://{{username}}@db/app" }, "must start with mysql:// or mariadb://"],
    [{ connection_url: "mysql://admin:hunter2@db/app" }, "must not contain a password"],
    [{ connection_url: "mysql://{{username}}:{{pass}}@db/app" }, "unknown template variable {{pass}}"],
    [{ connection_url: "mysql://db:99999/app" }, "is not a valid URL"],
    [{ username_prefix: "abcdefghi" }, "1-8 lower-case"],
    [{ username: "" }, "Too small"],
  ])("rejects %j", (extra, message) => {
    const r = provider.configSchema.safeParse({ ...base, ...extra });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join(" | ")).toContain(message);
  });

  it.each([
    [{ errno: 1205, sqlState: "HY000" }, "retryable"], // lock wait timeout
    [{ errno: 1213, sqlState: "40001" }, "retryable"], // deadlock
    [{ errno: 1040, sqlState: "08004" }, "retryable"], // too many connections
    [{ errno: 1927, sqlState: "70100" }, "retryable"], // MariaDB: connection killed
    [{ errno: 1064, sqlState: "42000" }, "permanent"], // syntax
    [{ errno: 1045, sqlState: "28000" }, "permanent"], // access denied
    [{ errno: 1227, sqlState: "42000" }, "permanent"], // needs a privilege
    [{ errno: 1396, sqlState: "HY000" }, "permanent"], // CREATE USER failed
    [{ errno: -111, code: "ECONNREFUSED" }, "retryable"],
    [{ code: "PROTOCOL_CONNECTION_LOST" }, "retryable"],
  ])("classifies %j as %s", (fields, expected) => {
    expect(provider.classifyError(Object.assign(new Error("x"), fields))).toBe(expected);
    expect(provider.classifyError(new ProviderError("x", false))).toBe("permanent");
  });
});
