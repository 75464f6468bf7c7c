import { randomBytes, randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phaseFixture, type PhaseFixture } from "./fixtures.js";

const ENV_REQUIRED = "Environment context required. Supply `app_id` and `env` as query parameters.";
const hex64 = () => randomBytes(32).toString("hex");

let f: PhaseFixture;
let secretId: string;
beforeAll(async () => {
  f = await phaseFixture();
  const res = await f.t.http.post(f.url()).set("Authorization", f.sa.auth).send({ secrets: [{ key: "A", value: "1" }] });
  expect(res.status).toBe(200);
  secretId = res.body[0].id;
});
afterAll(async () => f?.close());

/** Any HTTP method, through node:http (superagent knows only the common ones). */
function rawRequest(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, f.t.url), { method, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

const get = (url: string, auth?: string) => {
  const req = f.t.http.get(url);
  return auth === undefined ? req : req.set("Authorization", auth);
};

describe("Authorization header (notes 2.1, 2.3)", () => {
  it("no header: 401, WWW-Authenticate: Bearer", async () => {
    const res = await get(f.url());
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe("Bearer");
    expect(res.body).toEqual({ error: "Authentication credentials were not provided." });
  });

  it("an empty header counts as none", async () => {
    const res = await get(f.url(), "");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Authentication credentials were not provided." });
  });

  it.each([
    ["no type", () => `Bearer ${f.sa.token}`],
    ["lower-case type", () => `Bearer serviceaccount ${f.sa.token}`],
    ["two spaces", () => `Bearer  ServiceAccount ${f.sa.token}`],
    ["not bearer", () => `Token ServiceAccount ${f.sa.token}`],
    ["type only", () => `Bearer ServiceAccount`],
  ])("malformed (%s): 401 Invalid token", async (_name, header) => {
    const res = await get(f.url(), header());
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Invalid token" });
  });

  it("`bearer` in any case, extra parts ignored", async () => {
    const res = await get(f.url(), `BEARER ServiceAccount ${f.sa.token} trailing junk`);
    expect(res.status).toBe(200);
  });

  it("unknown token: 401 Token expired or deleted", async () => {
    const res = await get(f.url(), `Bearer ServiceAccount ${hex64()}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Token expired or deleted" });
  });

  it("expired token: 401 Token expired or deleted (clock advanced, no sleeping)", async () => {
    const c = f.t.server.container;
    const issued = await c.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: f.sa.id }, "short", 60);
    expect((await get(f.url(), `Bearer ServiceAccount ${issued.token}`)).status).toBe(200);
    f.t.clock.advance(61_000);
    const res = await get(f.url(), `Bearer ServiceAccount ${issued.token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Token expired or deleted" });
  });

  it("revoked token: 401 Token expired or deleted", async () => {
    const c = f.t.server.container;
    const issued = await c.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: f.sa.id }, "revoke-me");
    await c.identityService.revokeToken({ kind: "SERVICE_ACCOUNT", id: f.sa.id }, issued.id);
    const res = await get(f.url(), `Bearer ServiceAccount ${issued.token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Token expired or deleted" });
  });

  it("a service-account token sent as `User` is refused", async () => {
    const res = await get(f.url(), `Bearer User ${f.sa.token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Token expired or deleted" });
  });

  it("a PAT of a deleted user: 404 User not found", async () => {
    const c = f.t.server.container;
    const u = await c.identityService.createUser({ email: "gone@example.com", role: "DEVELOPER" });
    const tok = await c.identityService.issueToken({ kind: "USER", id: u.id }, "pat");
    await f.t.db.query(`UPDATE users SET deleted_at = now() WHERE id = $1`, [u.id]);
    const res = await get(f.url(), `Bearer User ${tok.token}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "User not found" });
  });
});

describe("environment context (notes 2.2)", () => {
  it("unknown app: 404 App with ID x not found (UUID or not)", async () => {
    const id = randomUUID();
    let res = await get(`/v1/secrets/?app_id=${id}&env=Development`, f.sa.auth);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `App with ID ${id} not found` });
    res = await get(`/v1/secrets/?app_id=nope&env=Development`, f.sa.auth);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "App with ID nope not found" });
  });

  it("unknown environment: 404 Environment 'x' not found in App y", async () => {
    const res = await get(f.url("Nowhere"), f.sa.auth);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `Environment 'Nowhere' not found in App ${f.appId}` });
  });

  it.each(["development", "DEVELOPMENT", "DeVeLoPmEnT"])("env name %s matches case-insensitively", async (env) => {
    const res = await get(f.url(env), f.sa.auth);
    expect(res.status).toBe(200);
    expect(res.body.map((s: { key: string }) => s.key)).toEqual(["A"]);
  });

  it("service account without access: 401", async () => {
    const res = await get(f.url("Production"), f.sa.auth);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Service account cannot access this environment" });
  });

  it("user without access: 403", async () => {
    const res = await get(f.url("Production"), f.user.auth);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "User cannot access this environment" });
  });

  it("an Owner reaches every environment", async () => {
    const res = await get(f.url("Production"), f.owner.auth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  it.each([
    ["no parameters", () => "/v1/secrets/"],
    ["app_id only", () => `/v1/secrets/?app_id=${f.appId}`],
    ["env only", () => `/v1/secrets/?env=Development`],
  ])("%s: 403 Environment context required", async (_name, url) => {
    for (const auth of [f.sa.auth, f.user.auth]) {
      const res = await get(url(), auth);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: ENV_REQUIRED });
    }
  });

  it("the environment check also guards writes, before the body is read", async () => {
    const res = await f.t.http.post(`/v1/secrets/?app_id=${f.appId}`).set("Authorization", f.sa.auth).type("json").send("{not json");
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: ENV_REQUIRED });
  });

  it("app-only mode without any access to the app: SA 401, user 403", async () => {
    const other = await f.t.server.container.appService.createApp("other", ["Development"]);
    let res = await get(`/v1/secrets/?app_id=${other.id}`, f.sa.auth);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Service account cannot access this app" });
    res = await get(`/v1/secrets/?app_id=${other.id}`, f.user.auth);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "User cannot access this app" });
  });

  it("camelCase query aliases: appId (and secretId)", async () => {
    let res = await get(`/v1/secrets/?appId=${f.appId}&env=Development`, f.sa.auth);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    res = await get(`/v1/secrets/?secretId=${secretId}`, f.sa.auth);
    expect(res.status).toBe(200);
    expect(res.body.map((s: { id: string }) => s.id)).toEqual([secretId]);
  });

  it("secret_id gives the secret's environment; unknown: 404 Secret not found", async () => {
    let res = await get(`/v1/secrets/?secret_id=${secretId}`, f.sa.auth);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    res = await get(`/v1/secrets/?secret_id=${randomUUID()}`, f.sa.auth);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Secret not found" });
  });

  it("Environment header with an environment id; unknown: 401 Environment not found", async () => {
    let res = await get(`/v1/secrets/`, f.sa.auth).set("Environment", f.envs["Development"]!);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    res = await get(`/v1/secrets/`, f.sa.auth).set("Environment", randomUUID());
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Environment not found" });
  });
});

describe("routing (notes 1)", () => {
  it.each(["", "/public", "/service", "/service/public"])("prefix '%s' serves every method", async (prefix) => {
    const url = f.url("Development", {}, prefix);
    const created = await f.t.http.post(url).set("Authorization", f.sa.auth).send({ secrets: [{ key: `P${prefix.length}`, value: "v" }] });
    expect(created.status).toBe(200);
    const id = created.body[0].id;
    const read = await get(f.url("Development", { key: `P${prefix.length}` }, prefix), f.sa.auth);
    expect(read.status).toBe(200);
    expect(read.body.map((s: { id: string }) => s.id)).toEqual([id]);
    const updated = await f.t.http.put(url).set("Authorization", f.sa.auth).send({ secrets: [{ id, value: "w" }] });
    expect(updated.status).toBe(200);
    expect(updated.body[0].value).toBe("w");
    const deleted = await f.t.http.delete(url).set("Authorization", f.sa.auth).send({ secrets: [id] });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ message: "Deleted 1 secret" });
  });

  it.each(["", "/public", "/service", "/service/public"])("prefix '%s' without the trailing slash: 404", async (prefix) => {
    const res = await get(`${prefix}/v1/secrets?app_id=${f.appId}&env=Development`, f.sa.auth);
    expect(res.status).toBe(404);
    const post = await f.t.http.post(`${prefix}/v1/secrets?app_id=${f.appId}&env=Development`).set("Authorization", f.sa.auth).send({ secrets: [{ key: "NO_SLASH", value: "v" }] });
    expect(post.status).toBe(404);
    const rows = await f.t.db.query(`SELECT 1 FROM secrets WHERE path = '/' AND version = 1 AND id NOT IN ($1)`, [secretId]);
    expect(rows).toEqual([]);
  });

  it.each(["PATCH", "OPTIONS"])("%s after authentication: 403 Unsupported HTTP method", async (method) => {
    const res = await f.t.http[method.toLowerCase() as "patch" | "options"](f.url()).set("Authorization", f.sa.auth);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: `Unsupported HTTP method: ${method}` });
  });

  it.each(["HEAD", "TRACE"])("%s after authentication: 403 (every method fastify knows)", async (method) => {
    const res = await rawRequest(method, f.url(), { Authorization: f.sa.auth });
    expect(res.status).toBe(403);
    if (method !== "HEAD") expect(JSON.parse(res.text)).toEqual({ error: `Unsupported HTTP method: ${method}` });
  });

  it("PATCH is checked before the environment context, after authentication", async () => {
    let res = await f.t.http.patch("/v1/secrets/").set("Authorization", f.sa.auth);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "Unsupported HTTP method: PATCH" });
    res = await f.t.http.patch(f.url());
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Authentication credentials were not provided." });
  });
});
