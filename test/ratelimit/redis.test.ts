import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RATE_LIMIT_NAMESPACE } from "../../src/http/rate-limit.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startTestServer, testMasterKey, type TestServer } from "../support/server.js";
import { adminWithTokens, bearer, throttledBody } from "./helpers.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Two server instances on one database and one Redis share each account's bucket. Keys are
 * `leasehold-rl:<account>` with the account's random UUID, so parallel runs never share a key;
 * every key this file creates is deleted afterwards.
 */
describe("rate limiting with REDIS_URL", () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let redis: Redis;
  const keys: string[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    db = await createTestDatabase();
    const masterKey = testMasterKey();
    const env = { RATE_LIMIT_DEFAULT: "3/minute", REDIS_URL };
    a = await startTestServer({ db, masterKey, env });
    b = await startTestServer({ db, masterKey, env: { ...env, LEASEHOLD_BOOTSTRAP_TOKEN: a.ownerToken } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await db?.drop();
  });

  it("two instances share one bucket per account, kept in Redis with the window as its TTL", async () => {
    const { id, tokens } = await adminWithTokens(a, 2);
    const key = `${RATE_LIMIT_NAMESPACE}user_${id}`;
    keys.push(key);
    expect((await a.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(200);
    expect((await b.http.get("/v1/apps/").set(bearer(tokens[1]!))).status).toBe(200);
    expect((await a.http.get("/v1/users/").set(bearer(tokens[1]!))).status).toBe(200);
    expect(await redis.get(key)).toBe("3");
    const pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);

    for (const server of [b, a]) {
      const res = await server.http.get("/v1/apps/").set(bearer(tokens[0]!));
      expect(res.status).toBe(429);
      const seconds = Number(res.headers["retry-after"]);
      expect(seconds).toBeGreaterThanOrEqual(50);
      expect(seconds).toBeLessThanOrEqual(60);
      expect(res.text).toBe(throttledBody(seconds));
    }
  });

  it("other accounts are unaffected, and 401s write nothing to Redis", async () => {
    const other = await adminWithTokens(b);
    keys.push(`${RATE_LIMIT_NAMESPACE}user_${other.id}`);
    for (let i = 0; i < 5; i++) expect((await b.http.get("/v1/apps/").set(bearer("f".repeat(64)))).status).toBe(401);
    expect(await redis.exists(`${RATE_LIMIT_NAMESPACE}user_${other.id}`)).toBe(0);
    for (const server of [a, b, a]) expect((await server.http.get("/v1/apps/").set(bearer(other.tokens[0]!))).status).toBe(200);
    expect((await b.http.get("/v1/apps/").set(bearer(other.tokens[0]!))).status).toBe(429);
  });

  it("closing a server closes its Redis connection", async () => {
    const name = `leasehold:${process.pid}`;
    const connections = async () =>
      String(await redis.call("CLIENT", "LIST")).split("\n").filter((l) => l.includes(` name=${name} `)).length;
    expect(await connections()).toBe(2);
    await b.close();
    // QUIT is acknowledged before the server drops the socket: wait for the list to catch up.
    for (let i = 0; i < 50 && (await connections()) > 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await connections()).toBe(1);
  });
});

describe("rate limiting with REDIS_URL pointing at nothing", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { RATE_LIMIT_DEFAULT: "3/minute", REDIS_URL: "redis://:s3cret-redis-pw@127.0.0.1:1" } });
  });
  afterAll(async () => t?.close());

  it("lets requests through rather than failing the API, and logs the outage without the URL's secrets", async () => {
    const { tokens } = await adminWithTokens(t);
    for (let i = 0; i < 5; i++) expect((await t.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(200);
    expect(t.logs().some((l) => l.includes("rate-limit Redis unavailable"))).toBe(true);
    expect(t.logs().filter((l) => l.includes("s3cret-redis-pw"))).toEqual([]);
  });
});
