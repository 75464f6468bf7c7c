import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseRate } from "../../src/config.js";

const KEY = randomBytes(32).toString("base64");

/** The issues loadConfig reports for `env`, asserting it throws ConfigError and never echoes `secret`. */
function issues(env: Record<string, string>, secret?: string): string[] {
  let err: unknown;
  try {
    loadConfig(env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  const e = err as ConfigError;
  expect(e.message).toBe(`Invalid configuration:\n${e.issues.map((i) => `  - ${i}`).join("\n")}`);
  if (secret) expect(e.message).not.toContain(secret);
  return e.issues;
}

describe("configuration", () => {
  it("defaults: embedded quickstart on 127.0.0.1:8080, info logs, no rate limit, no TLS", () => {
    const c = loadConfig({});
    const pick = <K extends keyof typeof c>(...keys: K[]) => Object.fromEntries(keys.map((k) => [k, c[k]]));
    expect(
      pick("DATABASE_URL", "LEASEHOLD_DATA_DIR", "LEASEHOLD_MASTER_KEY", "HOST", "PORT", "TLS_CERT_FILE", "TLS_KEY_FILE", "RATE_LIMIT_DEFAULT", "REDIS_URL", "LOG_LEVEL", "LEASEHOLD_BOOTSTRAP_TOKEN", "TRUST_PROXY"),
    ).toEqual({
      DATABASE_URL: undefined,
      LEASEHOLD_DATA_DIR: "./.leasehold",
      LEASEHOLD_MASTER_KEY: undefined,
      HOST: "127.0.0.1",
      PORT: 8080,
      TLS_CERT_FILE: undefined,
      TLS_KEY_FILE: undefined,
      RATE_LIMIT_DEFAULT: undefined,
      REDIS_URL: undefined,
      LOG_LEVEL: "info",
      LEASEHOLD_BOOTSTRAP_TOKEN: undefined,
      TRUST_PROXY: false,
    });
  });

  it("empty strings count as unset", () => {
    const c = loadConfig({ PORT: "", LEASEHOLD_MASTER_KEY: "  ", LOG_LEVEL: "", RATE_LIMIT_DEFAULT: "" });
    expect([c.PORT, c.LEASEHOLD_MASTER_KEY, c.LOG_LEVEL, c.RATE_LIMIT_DEFAULT]).toEqual([8080, undefined, "info", undefined]);
  });

  describe("PORT", () => {
    it.each([["0", 0], ["8080", 8080], ["65535", 65535]])("accepts %s", (v, n) => {
      expect(loadConfig({ PORT: v }).PORT).toBe(n);
    });
    it.each([
      ["http", "PORT: Invalid input: expected number, received NaN"],
      ["65536", "PORT: Too big: expected number to be <=65535"],
      ["-1", "PORT: Too small: expected number to be >=0"],
      ["80.5", "PORT: Invalid input: expected int, received number"],
    ])("refuses %s", (v, message) => {
      expect(issues({ PORT: v })).toEqual([message]);
    });
  });

  describe("LEASEHOLD_MASTER_KEY", () => {
    const message = "LEASEHOLD_MASTER_KEY: must be the base64 encoding of exactly 32 bytes (openssl rand -base64 32)";
    it("decodes a base64 32-byte key", () => {
      const k = loadConfig({ LEASEHOLD_MASTER_KEY: KEY }).LEASEHOLD_MASTER_KEY!;
      expect(Buffer.from(k).toString("base64")).toBe(KEY);
    });
    it.each([
      ["31 bytes", randomBytes(31).toString("base64")],
      ["33 bytes", randomBytes(33).toString("base64")],
      ["64 bytes", randomBytes(64).toString("base64")],
      ["hex instead of base64", randomBytes(32).toString("hex")],
      ["base64url", "-_" + KEY.slice(2).replace(/[+/]/g, "A")],
      ["no padding", KEY.slice(0, 43)],
      ["a passphrase", "correct horse battery staple and some more words"],
    ])("refuses %s, without echoing it", (_what, value) => {
      expect(issues({ LEASEHOLD_MASTER_KEY: value }, value)).toEqual([message]);
    });
    it("is required with DATABASE_URL (and only then)", () => {
      expect(issues({ DATABASE_URL: "postgresql://u:pw@db/leasehold" }, "pw@db")).toEqual([
        "LEASEHOLD_MASTER_KEY: is required when DATABASE_URL is set (generate one with: openssl rand -base64 32)",
      ]);
      expect(loadConfig({ DATABASE_URL: "postgres://db/x", LEASEHOLD_MASTER_KEY: KEY }).DATABASE_URL).toBe("postgres://db/x");
    });
  });

  it("DATABASE_URL must be a PostgreSQL URL, and is not echoed", () => {
    const url = "mysql://root:hunter2@db/x";
    expect(issues({ DATABASE_URL: url, LEASEHOLD_MASTER_KEY: KEY }, "hunter2")).toEqual(["DATABASE_URL: must be a postgresql:// URL"]);
  });

  it("TLS_CERT_FILE and TLS_KEY_FILE go together", () => {
    expect(issues({ TLS_CERT_FILE: "/c.pem" })).toEqual(["TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE must be set together"]);
    expect(issues({ TLS_KEY_FILE: "/k.pem" })).toEqual(["TLS_CERT_FILE: TLS_CERT_FILE and TLS_KEY_FILE must be set together"]);
    expect(loadConfig({ TLS_CERT_FILE: "/c.pem", TLS_KEY_FILE: "/k.pem" })).toMatchObject({ TLS_CERT_FILE: "/c.pem", TLS_KEY_FILE: "/k.pem" });
  });

  describe("RATE_LIMIT_DEFAULT (Phase's <count>/<period>, only the period's first letter counts)", () => {
    it.each([
      ["120/minute", 120, 60_000],
      ["10/s", 10, 1_000],
      ["100/m", 100, 60_000],
      ["1000/hour", 1000, 3_600_000],
      ["5000/day", 5000, 86_400_000],
      ["10/SEC", 10, 1_000],
      [" 7/m ", 7, 60_000],
    ])("%s", (v, max, windowMs) => {
      expect(loadConfig({ RATE_LIMIT_DEFAULT: v }).RATE_LIMIT_DEFAULT).toEqual({ max, windowMs });
      expect(parseRate(v)).toEqual({ max, windowMs });
    });
    it.each(["100/5m", "0/m", "100", "m/100", "10/week", "-1/s", "1.5/s"])("refuses %s", (v) => {
      expect(issues({ RATE_LIMIT_DEFAULT: v })).toEqual(['RATE_LIMIT_DEFAULT: expected "<count>/<period>" such as 120/minute or 10/s']);
    });
  });

  it("LOG_LEVEL is one of pino's levels", () => {
    expect(loadConfig({ LOG_LEVEL: "debug" }).LOG_LEVEL).toBe("debug");
    expect(issues({ LOG_LEVEL: "verbose" })).toEqual(['LOG_LEVEL: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"']);
  });

  it("LEASEHOLD_BOOTSTRAP_TOKEN is 64 lowercase hex characters, and is not echoed", () => {
    const good = randomBytes(32).toString("hex");
    expect(loadConfig({ LEASEHOLD_BOOTSTRAP_TOKEN: good }).LEASEHOLD_BOOTSTRAP_TOKEN).toBe(good);
    const message = "LEASEHOLD_BOOTSTRAP_TOKEN: must be 64 lowercase hex characters (openssl rand -hex 32)";
    for (const bad of [good.toUpperCase(), good.slice(1), `${good}a`, `${good.slice(2)}zz`]) expect(issues({ LEASEHOLD_BOOTSTRAP_TOKEN: bad }, bad)).toEqual([message]);
  });

  it("REDIS_URL, TRUST_PROXY and the audit settings are validated", () => {
    expect(issues({ REDIS_URL: "http://cache:6379" })).toEqual(["REDIS_URL: must be a redis:// or rediss:// URL"]);
    expect(loadConfig({ REDIS_URL: "rediss://cache:6380" }).REDIS_URL).toBe("rediss://cache:6380");
    expect(loadConfig({ TRUST_PROXY: "yes" }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "0" }).TRUST_PROXY).toBe(false);
    expect(issues({ TRUST_PROXY: "maybe" })).toEqual(['TRUST_PROXY: Invalid option: expected one of "0"|"1"|"true"|"false"|"yes"|"no"']);
    expect(issues({ AUDIT_FLUSH_INTERVAL_MS: "5" })).toEqual(["AUDIT_FLUSH_INTERVAL_MS: Too small: expected number to be >=10"]);
    expect(issues({ AUDIT_BATCH_SIZE: "0" })).toEqual(["AUDIT_BATCH_SIZE: Too small: expected number to be >=1"]);
  });

  it("reports every problem at once", () => {
    expect(issues({ PORT: "x", LOG_LEVEL: "loud", RATE_LIMIT_DEFAULT: "fast", TLS_CERT_FILE: "/c" })).toEqual([
      "PORT: Invalid input: expected number, received NaN",
      'RATE_LIMIT_DEFAULT: expected "<count>/<period>" such as 120/minute or 10/s',
      'LOG_LEVEL: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
    ]);
  });
});
