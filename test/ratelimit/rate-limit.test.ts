import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate } from "../../src/auth/hooks.js";
import { registerErrorHandler } from "../../src/errors.js";
import { registerRateLimit } from "../../src/http/rate-limit.js";
import type { App } from "../../src/http/types.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { adminWithTokens, bearer, serviceAccountWithTokens, throttledBody } from "./helpers.js";

const RATE_HEADERS = ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"];

describe("rate limiting at 3/minute (in-memory buckets)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { RATE_LIMIT_DEFAULT: "3/minute" } });
  });
  afterAll(async () => t?.close());

  it("the 4th request in the window gets Phase's 429: exact body and a matching Retry-After", async () => {
    const { tokens } = await adminWithTokens(t);
    for (let i = 0; i < 3; i++) {
      const ok = await t.http.get("/v1/apps/").set(bearer(tokens[0]!));
      expect(ok.status).toBe(200);
      for (const h of [...RATE_HEADERS, "retry-after"]) expect(ok.headers[h]).toBeUndefined();
    }
    const res = await t.http.get("/v1/apps/").set(bearer(tokens[0]!));
    expect(res.status).toBe(429);
    const seconds = Number(res.headers["retry-after"]);
    expect(res.headers["retry-after"]).toMatch(/^\d+$/);
    expect(seconds).toBeGreaterThanOrEqual(50);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.text).toBe(throttledBody(seconds));
    expect(Number(res.headers["content-length"])).toBe(Buffer.byteLength(throttledBody(seconds)));
    for (const h of RATE_HEADERS) expect(res.headers[h]).toBeUndefined();
  });

  it("all tokens of one account share one bucket, across routes", async () => {
    const { tokens } = await adminWithTokens(t, 2);
    expect((await t.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(200);
    expect((await t.http.get("/v1/users/").set(bearer(tokens[1]!))).status).toBe(200);
    expect((await t.http.get("/v1/service-accounts/").set(bearer(tokens[0]!))).status).toBe(200);
    const res = await t.http.get("/v1/apps/").set(bearer(tokens[1]!));
    expect(res.status).toBe(429);
    expect(res.text).toBe(throttledBody(Number(res.headers["retry-after"])));
  });

  it("different accounts have separate buckets", async () => {
    const a = await adminWithTokens(t);
    const b = await adminWithTokens(t);
    for (let i = 0; i < 3; i++) expect((await t.http.get("/v1/apps/").set(bearer(a.tokens[0]!))).status).toBe(200);
    expect((await t.http.get("/v1/apps/").set(bearer(a.tokens[0]!))).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await t.http.get("/v1/apps/").set(bearer(b.tokens[0]!))).status).toBe(200);
    // The bootstrap Owner is another account again.
    expect((await t.http.get("/v1/apps/").set(bearer(t.ownerToken))).status).toBe(200);
  });

  it("401s never count, not even with a revoked token of the same account", async () => {
    const svc = t.server.container.identityService;
    const { id, tokens } = await adminWithTokens(t, 2);
    const revoked = (await svc.listTokens({ kind: "USER", id })).find((x) => x.name === "t1")!;
    await svc.revokeToken({ kind: "USER", id }, revoked.id);
    const bad = [undefined, "Bearer", "Basic abc", `Bearer ${"0".repeat(64)}`, `Bearer ${tokens[1]}`];
    for (let round = 0; round < 2; round++) {
      for (const header of bad) {
        const req = t.http.get("/v1/apps/");
        const res = await (header === undefined ? req : req.set("Authorization", header));
        expect(res.status).toBe(401);
      }
    }
    for (let i = 0; i < 3; i++) expect((await t.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(200);
    expect((await t.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(429);
  });

  it("a throttled request is refused before its body is read: nothing is created, bad JSON still gets 429", async () => {
    const { tokens } = await adminWithTokens(t);
    for (let i = 0; i < 3; i++) expect((await t.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(200);
    const create = await t.http.post("/v1/apps/").set(bearer(tokens[0]!)).send({ name: "throttled-app" });
    expect(create.status).toBe(429);
    expect(create.text).toBe(throttledBody(Number(create.headers["retry-after"])));
    expect(await t.db.query(`SELECT id FROM apps WHERE name = 'throttled-app'`)).toEqual([]);
    const badJson = await t.http.post("/v1/apps/").set(bearer(tokens[0]!)).set("Content-Type", "application/json").send("{nope");
    expect(badJson.status).toBe(429);
  });

  it("/v1/secrets/: two tokens of one service account share a bucket; a throttled POST stores nothing", async () => {
    const c = t.server.container;
    const app = await c.appService.createApp(`rl-${Date.now()}`, ["Development"]);
    const sa = await serviceAccountWithTokens(t, 2);
    await c.identityService.grantAccess({ kind: "SERVICE_ACCOUNT", id: sa.id }, app.id, ["Development"]);
    const url = `/v1/secrets/?app_id=${app.id}&env=Development`;
    const as = (i: number) => ({ Authorization: `Bearer ServiceAccount ${sa.tokens[i]}` });
    expect((await t.http.get(url).set(as(0))).status).toBe(200);
    expect((await t.http.get(url).set(as(1))).status).toBe(200);
    expect((await t.http.post(url).set(as(0)).send({ secrets: [{ key: "FIRST", value: "1" }] })).status).toBe(200);
    const res = await t.http.post(url).set(as(1)).send({ secrets: [{ key: "THROTTLED", value: "2" }] });
    expect(res.status).toBe(429);
    expect(res.text).toBe(throttledBody(Number(res.headers["retry-after"])));
    expect((await t.db.query(`SELECT count(*)::int AS n FROM secrets WHERE environment_id = $1`, [app.environments[0]!.id]))[0]).toEqual({ n: 1 });
    // Another service account with the same grant is not affected.
    const other = await serviceAccountWithTokens(t);
    await c.identityService.grantAccess({ kind: "SERVICE_ACCOUNT", id: other.id }, app.id, ["Development"]);
    expect((await t.http.get(url).set({ Authorization: `Bearer ServiceAccount ${other.tokens[0]}` })).status).toBe(200);
  });

  it("a user's bucket is shared by the management API and /v1/secrets/", async () => {
    const { tokens } = await adminWithTokens(t);
    const app = await t.server.container.appService.createApp(`rl-user-${Date.now()}`, ["Development"]);
    const secrets = `/v1/secrets/?app_id=${app.id}&env=Development`;
    expect((await t.http.get(secrets).set({ Authorization: `Bearer User ${tokens[0]}` })).status).toBe(200);
    expect((await t.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(200);
    expect((await t.http.get(`/public${secrets}`).set({ Authorization: `Bearer User ${tokens[0]}` })).status).toBe(200);
    expect((await t.http.get("/v1/users/").set(bearer(tokens[0]!))).status).toBe(429);
    expect((await t.http.get(secrets).set({ Authorization: `Bearer User ${tokens[0]}` })).status).toBe(429);
  });

  it("unauthenticated routes (health, 404) are not limited", async () => {
    for (let i = 0; i < 6; i++) expect((await t.http.get("/")).status).toBe(200);
    for (let i = 0; i < 6; i++) expect((await t.http.get("/nope")).status).toBe(404);
  });

  it("counts after authentication for routes at the root and in encapsulated plugins", async () => {
    // A bare app holding only our hooks: the rate limiter is registered first, the routes after it,
    // one with a route-level onRequest hook at the root, one under a scope-level hook in a child plugin.
    const app = Fastify() as unknown as App;
    registerErrorHandler(app);
    await registerRateLimit(app, { config: t.config });
    const auth = authenticate(t.server.container.authenticator);
    app.get("/root", { onRequest: auth }, async () => ({ ok: true }));
    await app.register(async (scope: App) => {
      scope.addHook("onRequest", auth);
      scope.get("/scoped", async () => ({ ok: true }));
    });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const sa = await serviceAccountWithTokens(t, 2);
      const get = (path: string, token?: string) =>
        fetch(url + path, token ? { headers: bearer(token) } : {}).then(async (r) => ({ status: r.status, text: await r.text() }));
      for (const path of ["/root", "/scoped", "/root", "/scoped"]) expect((await get(path)).status).toBe(401);
      expect((await get("/root", sa.tokens[0])).status).toBe(200);
      expect((await get("/scoped", sa.tokens[1])).status).toBe(200);
      expect((await get("/scoped", sa.tokens[0])).status).toBe(200);
      const res = await get("/root", sa.tokens[1]);
      expect(res.status).toBe(429);
      expect(res.text).toMatch(/^\{"error":"Request was throttled\. Expected available in \d+ seconds\."\}$/);
      expect((await get("/scoped", sa.tokens[0])).status).toBe(429);
    } finally {
      await app.close();
    }
  });
});

describe("rate limiting at 1/second", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { RATE_LIMIT_DEFAULT: "1/s" } });
  });
  afterAll(async () => t?.close());

  it("says '1 second.' (singular) with Retry-After: 1", async () => {
    const { tokens } = await adminWithTokens(t);
    expect((await t.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(200);
    const res = await t.http.get("/v1/apps/").set(bearer(tokens[0]!));
    expect(res.status).toBe(429);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.text).toBe('{"error":"Request was throttled. Expected available in 1 second."}');
  });
});

describe("without RATE_LIMIT_DEFAULT", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  it("nothing is throttled", async () => {
    const { tokens } = await adminWithTokens(t);
    for (let i = 0; i < 30; i++) expect((await t.http.get("/v1/apps/").set(bearer(tokens[0]!))).status).toBe(200);
  });
});
