import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderError, type CreateContext } from "../../src/providers/provider.js";
import { createRedisProvider, type RedisConfig } from "../../src/providers/redis.js";
import { deleteAclUsers, redisAclUser, redisLogin, redisRoot } from "./redis-helpers.js";

const ctx = (): CreateContext => ({ leaseId: "lease-1", roleName: "Cache", expiresAt: new Date("2030-01-01T00:00:00Z"), ttlSeconds: 3600 });

describe("Redis provider (real Redis)", () => {
  // Every user this file creates starts with the prefix (cleaned up at the end), keys with `${prefix}:`.
  const prefix = `r${randomBytes(4).toString("hex")}`;
  const provider = createRedisProvider();
  let root: Redis;

  function config(extra: Record<string, unknown> = {}): RedisConfig {
    return provider.configSchema.parse({
      connection_url: "redis://{{username}}:{{password}}@127.0.0.1:6379/0",
      username: "default",
      password: "",
      creation_statements: `~${prefix}:cache:* +get +set`,
      username_prefix: prefix,
      ...extra,
    });
  }
  async function issue(cfg: RedisConfig) {
    const planned = provider.plan(cfg, ctx());
    const cred = await provider.create(cfg, planned, ctx());
    return { cred, name: planned.identity, password: planned.secrets.password as string };
  }
  const userExists = async (name: string) => (await root.call("ACL", ["GETUSER", name])) !== null;

  beforeAll(async () => {
    root = await redisRoot();
  });
  afterAll(async () => {
    await provider.close();
    await deleteAclUsers(root, prefix);
    const keys = await root.keys(`${prefix}:*`);
    if (keys.length) await root.del(...keys);
    root?.disconnect();
  });

  it("plans <prefix>_<role>_<random16> names and URL-safe passwords, with no side effect", async () => {
    const p = provider.plan(config(), { leaseId: "l", roleName: "Session Cache!" });
    expect(p.identity).toMatch(new RegExp(`^${prefix}_session_cache_[a-z0-9]{16}$`));
    expect(p.secrets.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await userExists(p.identity)).toBe(false);
  });

  it("creates an ACL user: it logs in, runs its permitted commands on its keys, and is refused the rest", async () => {
    const { cred, name, password } = await issue(config());
    expect(cred).toEqual({
      outputs: { username: name, password, connection_url: `redis://${name}:${password}@127.0.0.1:6379/0` },
      revocation: { identity: name },
    });
    const acl = (await root.call("ACL", ["GETUSER", name])) as unknown[];
    const field = (k: string) => acl[acl.indexOf(k) + 1];
    expect(field("flags")).toContain("on");
    expect(field("flags")).not.toContain("nopass");
    expect(field("passwords")).toHaveLength(1); // a SHA-256 of the one password we set
    expect(field("keys")).toBe(`~${prefix}:cache:*`);
    expect(field("commands")).toBe("-@all +set +get");

    const c = await redisLogin(name, password);
    try {
      expect(await c.call("ACL", ["WHOAMI"]).catch((e: Error) => e.message)).toMatch(/^NOPERM/);
      expect(await c.set(`${prefix}:cache:a`, "1")).toBe("OK");
      expect(await c.get(`${prefix}:cache:a`)).toBe("1");
      await expect(c.get(`${prefix}:other`)).rejects.toThrow(/^NOPERM .*key/);
      await expect(c.del(`${prefix}:cache:a`)).rejects.toThrow(/^NOPERM .*'del' command/);
      await expect(c.flushall()).rejects.toThrow(/^NOPERM/);
    } finally {
      c.disconnect();
    }
    await expect(redisLogin(name, `${password}x`)).rejects.toThrow(/^WRONGPASS/);
  });

  it("rules may be a list and use {{name}}: each user gets its own key space", async () => {
    const { name, password } = await issue(config({ creation_statements: ["~{{name}}:*", "+@string", "-append"] }));
    const c = await redisLogin(name, password);
    try {
      expect(await c.set(`${name}:k`, "v")).toBe("OK");
      await expect(c.set(`${prefix}:cache:k`, "v")).rejects.toThrow(/^NOPERM/);
      await expect(c.append(`${name}:k`, "w")).rejects.toThrow(/^NOPERM/);
    } finally {
      c.disconnect();
      await root.del(`${name}:k`);
    }
  });

  it("revoke deletes the user and ends its open session; a new login then fails", async () => {
    const { name, password } = await issue(config());
    const session = await redisLogin(name, password);
    expect(await session.get(`${prefix}:cache:x`)).toBeNull();
    const ours = async () => String(await root.client("LIST")).split("\n").filter((l) => l.includes(` user=${name} `));
    expect(await ours()).toHaveLength(1);
    await provider.revoke(config(), { identity: name });
    expect(await userExists(name)).toBe(false);
    expect(await ours()).toEqual([]);
    await expect(session.get(`${prefix}:cache:x`)).rejects.toThrow();
    session.disconnect();
    await expect(redisLogin(name, password)).rejects.toThrow(/^WRONGPASS/);
  });

  it("revoke is idempotent: twice, or for a user that never existed", async () => {
    const { name } = await issue(config());
    await provider.revoke(config(), { identity: name });
    await expect(provider.revoke(config(), { identity: name })).resolves.toBeUndefined();
    await expect(provider.revoke(config(), { identity: `${prefix}_never_existed` })).resolves.toBeUndefined();
  });

  it("a rule Redis refuses fails creation permanently and leaves no user; the password is never in the message", async () => {
    const cfg = config({ creation_statements: "~x:* +get +nosuchcommand" });
    const planned = provider.plan(cfg, ctx());
    const err = (await provider.create(cfg, planned, ctx()).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ retryable: false, code: "ERR" });
    expect(err.message).toMatch(/^Redis user creation failed: ERR Error in ACL SETUSER modifier '\+nosuchcommand'/);
    expect(err.message).not.toContain(planned.secrets.password);
    expect(provider.classifyError(err)).toBe("permanent");
    expect(await userExists(planned.identity)).toBe(false);
  });

  it("a root user with a password: leases work; a wrong password is permanent and never shown", async () => {
    const rootName = `${prefix}_root`;
    const rootPassword = "root-Pw-that-must-never-leak";
    await redisAclUser(root, rootName, rootPassword, ["~*", "&*", "+@all"]);
    const p = createRedisProvider();
    try {
      const cfg = config({ username: rootName, password: rootPassword });
      await p.testConnection(cfg);
      const planned = p.plan(cfg, ctx());
      await p.create(cfg, planned, ctx());
      const c = await redisLogin(planned.identity, planned.secrets.password as string);
      expect(await c.set(`${prefix}:cache:r`, "ok")).toBe("OK");
      c.disconnect();
      await p.revoke(cfg, { identity: planned.identity });
      expect(await userExists(planned.identity)).toBe(false);

      const wrong = config({ username: rootName, password: `${rootPassword}-wrong` });
      const err = (await p.testConnection(wrong).catch((e: unknown) => e)) as ProviderError;
      expect(err).toMatchObject({ retryable: false, code: "WRONGPASS" });
      expect(err.message).toMatch(/^Redis connection test failed: WRONGPASS invalid username-password pair/);
      expect(err.message).not.toContain(rootPassword);
    } finally {
      await p.close();
    }
  });

  it("testConnection refuses a root user that may not manage ACL users (permanent)", async () => {
    const weak = `${prefix}_weak`;
    await redisAclUser(root, weak, "weak-password-0000", ["~*", "+@read", "+acl|whoami", "+acl|dryrun"]);
    const p = createRedisProvider();
    try {
      await expect(p.testConnection(config({ username: weak, password: "weak-password-0000" }))).rejects.toMatchObject({
        retryable: false,
        code: "NOPERM",
        message: expect.stringMatching(/^The root user may not run ACL SETUSER: /),
      });
    } finally {
      await p.close();
    }
  });

  it("testConnection: a closed port is retryable (ECONNREFUSED)", async () => {
    const p = createRedisProvider();
    try {
      const err = (await p.testConnection(config({ connection_url: "redis://{{username}}:{{password}}@127.0.0.1:1/0" })).catch((e: unknown) => e)) as ProviderError;
      expect(err).toMatchObject({ retryable: true, code: "ECONNREFUSED" });
    } finally {
      await p.close();
    }
  });

  it("keeps one client per root configuration, replaces a closed one, and quits them on close()", async () => {
    const p = createRedisProvider();
    const a = await p.clientFor(config());
    expect(await p.clientFor(config())).toBe(a);
    expect(await p.clientFor(config({ creation_statements: "+ping" }))).toBe(a);
    a.disconnect(); // e.g. the server closed the connection
    await new Promise((resolve) => a.once("end", resolve));
    const b = await p.clientFor(config());
    expect(b).not.toBe(a);
    await p.testConnection(config());
    await p.close();
    expect(b.status).toBe("end");
  });
});

describe("Redis provider: config and classification", () => {
  const provider = createRedisProvider();
  const base = { connection_url: "rediss://{{username}}:{{password}}@cache:6380/2", creation_statements: "~cache:* +get +set" };

  it("splits a rule string on whitespace, keeps a list as given, and defaults the root to `default` without a password", () => {
    const c = provider.configSchema.parse({ ...base, creation_statements: "  ~cache:*\t+get\n +set " });
    expect(c).toEqual({ ...base, username: "default", password: "", creation_statements: ["~cache:*", "+get", "+set"], username_prefix: "v" });
    expect(provider.configSchema.parse({ ...base, creation_statements: ["(~a:*", "+get)", "%R~b:*"] }).creation_statements).toEqual(["(~a:*", "+get)", "%R~b:*"]);
    expect(provider.secretFields).toEqual(["password"]);
    expect(provider.defaultKeyMap.map((k) => [k.keyName, k.masked])).toEqual([
      ["REDIS_USERNAME", false],
      ["REDIS_PASSWORD", true],
      ["REDIS_URL", true],
    ]);
  });

  it.each([
    [{ creation_statements: "~x:* >extra-password" }, "ACL rule '>extra-password' is not allowed"],
    [{ creation_statements: "+get nopass" }, "ACL rule 'nopass' is not allowed"],
    [{ creation_statements: ["+get", "NoPass"] }, "ACL rule 'NoPass' is not allowed"],
    [{ creation_statements: "+get resetpass" }, "ACL rule 'resetpass' is not allowed"],
    [{ creation_statements: "+get reset" }, "ACL rule 'reset' is not allowed"],
    [{ creation_statements: "<old +get" }, "ACL rule '<old' is not allowed"],
    [{ creation_statements: `#${"a".repeat(64)}` }, "is not allowed: passwords are set by the provider"],
    [{ creation_statements: `!${"a".repeat(64)}` }, "is not allowed"],
    [{ creation_statements: ["(>sneaky)"] }, "ACL rule '(>sneaky)' is not allowed"],
    [{ creation_statements: ["+get +set"] }, "ACL rule '+get +set' contains whitespace"],
    [{ creation_statements: ["+get", ""] }, "ACL rules must not be empty"],
    [{ creation_statements: "   " }, "at least one ACL rule is required"],
    [{ creation_statements: "~{{user}}:*" }, "unknown template variable {{user}}"],
    [{ connection_url: "mysql://{{username}}@db/app" }, "must start with redis:// or rediss://"],
    [{ connection_url: "redis://default:hunter2@db:6379/0" }, "must not contain a password"],
    [{ connection_url: "redis://{{username}}:{{pw}}@db:6379/0" }, "unknown template variable {{pw}}"],
    [{ connection_url: "redis://db:6379/zero" }, "the path must be a database number (/0)"],
    [{ username_prefix: "R-1" }, "lower-case"],
  ])("rejects %j", (extra, message) => {
    const r = provider.configSchema.safeParse({ ...base, ...extra });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join(" | ")).toContain(message);
  });

  const reply = (message: string) => Object.assign(new Error(message), { name: "ReplyError" });
  it.each([
    [reply("NOPERM User x has no permissions to run the 'acl|setuser' command"), "permanent"],
    [reply("WRONGPASS invalid username-password pair or user is disabled."), "permanent"],
    [reply("ERR Error in ACL SETUSER modifier '+nope': Unknown command or category name in ACL"), "permanent"],
    [reply("LOADING Redis is loading the dataset in memory"), "retryable"],
    [reply("BUSY Redis is busy running a script."), "retryable"],
    [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" }), "retryable"],
    [new Error("Connection is closed."), "retryable"],
    [new Error("Command timed out"), "retryable"],
    [new ProviderError("x", false), "permanent"],
  ])("classifies %s as %s", (err, expected) => {
    expect(provider.classifyError(err)).toBe(expected);
  });
});
