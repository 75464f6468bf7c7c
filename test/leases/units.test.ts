import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { AppError } from "../../src/errors.js";
import { createServerKeys } from "../../src/keys/server-keys.js";
import { backoffDelayMs, slowRetryDelayMs } from "../../src/leases/backoff.js";
import { createFaultInjector, noFaults } from "../../src/leases/faults.js";
import { createKeyedLimiter } from "../../src/leases/limiter.js";
import { openState, sealState, secretsIn, scrubbedMessage } from "../../src/leases/state.js";
import { checkRenewal, leaseTtl } from "../../src/leases/ttl.js";
import { startTestServer, type TestServer } from "../support/server.js";

const messageOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as AppError).message;
  }
  return null;
};

describe("lease building blocks", () => {
  it("backoff: full jitter under base * 2^(n-1), capped; slow retry ±10%", () => {
    const p = { baseMs: 2_000, maxMs: 300_000, maxAttempts: 6, slowRetryMs: 3_600_000 };
    expect([1, 2, 3, 8, 20].map((n) => backoffDelayMs(n, { ...p, random: () => 0.999999 }))).toEqual([1_999, 3_999, 7_999, 255_999, 299_999]);
    expect(backoffDelayMs(5, { ...p, random: () => 0 })).toBe(0);
    expect(slowRetryDelayMs({ ...p, random: () => 0 })).toBe(3_240_000);
    expect(slowRetryDelayMs({ ...p, random: () => 0.999999 })).toBe(3_959_999);
  });

  it("TTL rules: default for 0/missing, max before min, renewal within max_ttl in total", () => {
    const def = { defaultTtl: 3600, maxTtl: 7200 };
    expect(leaseTtl(undefined, def)).toBe(3600);
    expect(leaseTtl(0, def)).toBe(3600);
    expect(leaseTtl(60, def)).toBe(60);
    expect(messageOf(() => leaseTtl(30, def))).toBe("The specified TTL must be at least 60 seconds.");
    expect(messageOf(() => leaseTtl(7201, def))).toBe("The specified TTL exceeds the maximum TTL for this dynamic secret.");
    expect(messageOf(() => leaseTtl(1.5 as number, def))).toBe("ttl must be a valid integer (seconds)");
    const now = new Date("2030-01-01T00:00:00Z");
    const lease = { ttlSeconds: 7000, expiresAt: new Date(now.getTime() + 1) };
    expect(messageOf(() => checkRenewal(lease, 200, 7200, now))).toBeNull();
    expect(messageOf(() => checkRenewal(lease, 201, 7200, now))).toBe(
      "The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: 200 seconds",
    );
    expect(messageOf(() => checkRenewal({ ...lease, expiresAt: now }, 10, 7200, now))).toBe("This lease has expired and cannot be renewed");
    // Phase's order: the cumulative total first (so a ttl over max_ttl gets its message), expiry last.
    expect(messageOf(() => checkRenewal(lease, 7201, 7200, now))).toBe(
      "The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: 200 seconds",
    );
    expect(messageOf(() => checkRenewal({ ...lease, expiresAt: now }, 201, 7200, now))).toBe(
      "The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: 200 seconds",
    );
  });

  it("keyed limiter: at most N per key at once, keys independent, FIFO", async () => {
    const limiter = createKeyedLimiter(2);
    const running = new Map<string, number>();
    let maxA = 0;
    let maxB = 0;
    const order: number[] = [];
    const task = (key: string, i: number) =>
      limiter.run(key, async () => {
        running.set(key, (running.get(key) ?? 0) + 1);
        maxA = Math.max(maxA, running.get("a") ?? 0);
        maxB = Math.max(maxB, running.get("b") ?? 0);
        await new Promise((r) => setTimeout(r, 5));
        if (key === "a") order.push(i);
        running.set(key, running.get(key)! - 1);
      });
    await Promise.all([...Array.from({ length: 10 }, (_, i) => task("a", i)), ...Array.from({ length: 3 }, (_, i) => task("b", i))]);
    expect([maxA, maxB]).toEqual([2, 2]);
    expect(order.slice(0, 2).sort()).toEqual([0, 1]);
    expect(order.at(-1)).toBeGreaterThanOrEqual(8);
  });

  it("lease state: sealed to its lease id, secrets collected for scrubbing", () => {
    const key = new Uint8Array(32).fill(7);
    const state = { v: 1 as const, config: { password: "root-pw-123", host: "db" }, planned: { identity: "v_x", secrets: { password: "lease-pw-456" } } };
    const blob = sealState(key, "lease-a", state);
    expect(openState(key, "lease-a", blob)).toEqual(state);
    expect(() => openState(key, "lease-b", blob)).toThrow(/Could not decrypt/);
    expect(openState(key, "lease-a", new Uint8Array(0))).toBeNull();
    const secrets = secretsIn(state, { secretFields: ["password"] });
    expect(secrets.sort()).toEqual(["lease-pw-456", "root-pw-123"]);
    expect(scrubbedMessage(new Error("login root-pw-123 / lease-pw-456 on db failed"), secrets)).toBe("login [REDACTED] / [REDACTED] on db failed");
    // Unknown provider: every config string of 8+ characters counts as secret.
    expect(secretsIn(state, undefined).sort()).toEqual(["lease-pw-456", "root-pw-123"]);
  });

  it("fault injection is ignored outside tests unless explicitly enabled", () => {
    const base = { LEASEHOLD_FAULT: "after-claim" as const, LEASEHOLD_ENABLE_FAULT_INJECTION: false };
    expect(createFaultInjector(base, undefined, { NODE_ENV: "production" })).toBe(noFaults);
    expect(createFaultInjector({ ...base, LEASEHOLD_FAULT: undefined }, undefined, { NODE_ENV: "test" })).toBe(noFaults);
    expect(createFaultInjector(base, undefined, { NODE_ENV: "test" })).not.toBe(noFaults);
    expect(createFaultInjector({ ...base, LEASEHOLD_ENABLE_FAULT_INJECTION: true }, undefined, {})).not.toBe(noFaults);
  });

  it("config: reaper settings have defaults and are validated", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      LEASEHOLD_REAPER_SCHEDULE: "* * * * * *",
      LEASEHOLD_REVOCATION_MAX_ATTEMPTS: 6,
      LEASEHOLD_REVOCATION_BACKOFF_BASE_MS: 2_000,
      LEASEHOLD_REVOCATION_BACKOFF_MAX_MS: 300_000,
      LEASEHOLD_REVOCATION_SLOW_RETRY_MS: 3_600_000,
      LEASEHOLD_REAPER_CONCURRENCY_PER_TARGET: 4,
      LEASEHOLD_REVOCATION_PAUSED: false,
    });
    expect(() => loadConfig({ LEASEHOLD_REAPER_SCHEDULE: "every second" })).toThrow(/LEASEHOLD_REAPER_SCHEDULE/);
    expect(() => loadConfig({ LEASEHOLD_FAULT: "whenever" })).toThrow(/LEASEHOLD_FAULT/);
    expect(() => loadConfig({ LEASEHOLD_PROVIDER_TIMEOUT_MS: "5000", LEASEHOLD_REAPER_CLAIM_TTL_MS: "5000" })).toThrow(/must be shorter/);
    expect(loadConfig({ LEASEHOLD_REAPER_SCHEDULE: "off" }).LEASEHOLD_REAPER_SCHEDULE).toBe("off");
  });
});

describe("server keys", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { LEASEHOLD_REAPER_SCHEDULE: "off" } });
  });
  afterAll(async () => t?.close());

  it("creates the 'leases' key once, even when several processes race for it, wrapped by the master key", async () => {
    const { db, masterKey } = t.server.container;
    expect(await t.db.query("SELECT purpose FROM server_keys")).toEqual([]);
    const stores = Array.from({ length: 8 }, () => createServerKeys({ prisma: db.prisma, masterKey }));
    const keys = await Promise.all(stores.map((s) => s.get("leases")));
    expect(new Set(keys.map((k) => Buffer.from(k).toString("hex"))).size).toBe(1);
    expect(keys[0]).toHaveLength(32);
    const rows = await t.db.query<{ purpose: string; wrapped_key: Buffer }>("SELECT purpose, wrapped_key FROM server_keys");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.wrapped_key.includes(Buffer.from(keys[0]!))).toBe(false);
    expect(masterKey.unwrapServerKey("leases", rows[0]!.wrapped_key)).toEqual(keys[0]);
  });
});
