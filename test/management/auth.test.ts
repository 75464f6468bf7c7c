import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { bearer, createApp, createServiceAccountWithToken, createUserWithToken } from "./helpers.js";

type Method = "get" | "post" | "delete";
interface Route {
  method: Method;
  path: string;
  body?: object;
}

describe("management API: authentication, authorisation and trailing slashes", () => {
  let t: TestServer;
  let developer: { id: string; token: string };
  let admin: { id: string; token: string };
  let sa: { id: string; token: string };
  let appId: string;
  let routes: Route[];

  beforeAll(async () => {
    t = await startTestServer();
    developer = await createUserWithToken(t, "dev@example.com", "Developer");
    admin = await createUserWithToken(t, "admin@example.com", "Admin");
    sa = await createServiceAccountWithToken(t, "ci");
    appId = (await createApp(t, "matrix")).id;
    const access = { app_id: appId, environments: ["Development"] };
    routes = [
      { method: "get", path: "/v1/apps/" },
      { method: "post", path: "/v1/apps/", body: { name: "from-matrix" } },
      { method: "get", path: `/v1/apps/${appId}/` },
      { method: "delete", path: `/v1/apps/${appId}/` },
      { method: "post", path: `/v1/apps/${appId}/environments/`, body: { name: "Preview" } },
      { method: "get", path: "/v1/service-accounts/" },
      { method: "post", path: "/v1/service-accounts/", body: { name: "from-matrix" } },
      { method: "get", path: `/v1/service-accounts/${sa.id}/` },
      { method: "get", path: `/v1/service-accounts/${sa.id}/access/` },
      { method: "post", path: `/v1/service-accounts/${sa.id}/access/`, body: access },
      { method: "delete", path: `/v1/service-accounts/${sa.id}/access/`, body: access },
      { method: "get", path: `/v1/service-accounts/${sa.id}/tokens/` },
      { method: "post", path: `/v1/service-accounts/${sa.id}/tokens/`, body: { name: "x" } },
      { method: "delete", path: `/v1/service-accounts/${sa.id}/tokens/${randomUUID()}/` },
      { method: "get", path: "/v1/users/" },
      { method: "post", path: "/v1/users/", body: { email: "new@example.com", role: "Developer" } },
      { method: "get", path: `/v1/users/${developer.id}/` },
      { method: "get", path: `/v1/users/${developer.id}/access/` },
      { method: "post", path: `/v1/users/${developer.id}/access/`, body: access },
      { method: "delete", path: `/v1/users/${developer.id}/access/`, body: access },
      { method: "get", path: `/v1/users/${developer.id}/tokens/` },
      { method: "post", path: `/v1/users/${developer.id}/tokens/`, body: { name: "x" } },
      { method: "delete", path: `/v1/users/${developer.id}/tokens/${randomUUID()}/` },
    ];
  });
  afterAll(async () => t?.close());

  const call = (r: Route, authorization?: string, path = r.path) => {
    let req = t.http[r.method](path);
    if (authorization !== undefined) req = req.set("Authorization", authorization);
    return r.body ? req.send(r.body) : req;
  };

  /** Everything these tests may not change (a token's last_used_at moves when it authenticates). */
  const snapshot = () =>
    Promise.all([
      ...["apps", "environments", "service_accounts", "users", "environment_access"].map((table) =>
        t.db.query(`SELECT * FROM ${table} ORDER BY id`),
      ),
      t.db.query(`SELECT id, kind, user_id, service_account_id, name, token_hash, expires_at, revoked_at FROM api_tokens ORDER BY id`),
    ]);

  it("answers 401 without credentials, with WWW-Authenticate, on every route", async () => {
    const before = await snapshot();
    for (const r of routes) {
      for (const header of [undefined, ""]) {
        const res = await call(r, header);
        expect(res.status, `${r.method} ${r.path}`).toBe(401);
        expect(res.body).toEqual({ error: "Authentication credentials were not provided." });
        expect(res.headers["www-authenticate"]).toBe("Bearer");
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("answers 401 for malformed headers and unknown tokens on every route", async () => {
    const unknown = "a".repeat(64);
    const cases: [string, string][] = [
      ["Basic dXNlcjpwYXNz", "Invalid token"],
      ["Bearer", "Invalid token"],
      [`Bearer user ${t.ownerToken}`, "Invalid token"],
      [`Bearer ${unknown}`, "Token expired or deleted"],
      [`Bearer User ${unknown}`, "Token expired or deleted"],
      ["Bearer not-hex", "Token expired or deleted"],
      // An owner token presented as a service-account token is not accepted.
      [`Bearer ServiceAccount ${t.ownerToken}`, "Token expired or deleted"],
    ];
    const before = await snapshot();
    for (const r of routes) {
      for (const [header, error] of cases) {
        const res = await call(r, header);
        expect(res.status, `${r.method} ${r.path} with ${header.slice(0, 20)}`).toBe(401);
        expect(res.body).toEqual({ error });
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("answers 403 to Developers and service accounts on every route, changing nothing", async () => {
    const before = await snapshot();
    for (const r of routes) {
      for (const header of [`Bearer User ${developer.token}`, `Bearer ${developer.token}`, `Bearer ServiceAccount ${sa.token}`, `Bearer ${sa.token}`]) {
        const res = await call(r, header);
        expect(res.status, `${r.method} ${r.path}`).toBe(403);
        expect(res.body).toEqual({ error: "This action requires an Owner or Admin user token." });
      }
    }
    // Also before validation: an invalid body from a Developer is still a 403.
    const res = await t.http.post("/v1/apps/").set(bearer(developer.token)).send({ name: "" });
    expect(res.status).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it("lets Admins and Owners in, as `Bearer <token>` and `Bearer User <token>`", async () => {
    for (const header of [`Bearer ${admin.token}`, `Bearer User ${admin.token}`, `Bearer ${t.ownerToken}`, `bearer User ${t.ownerToken}`]) {
      const res = await t.http.get("/v1/apps/").set("Authorization", header);
      expect(res.status).toBe(200);
      expect(res.body.map((a: { name: string }) => a.name)).toContain("matrix");
    }
  });

  it("serves every route with and without its trailing slash", async () => {
    for (const r of routes.filter((x) => x.method === "get")) {
      const slashed = await call(r, `Bearer ${t.ownerToken}`);
      const bare = await call(r, `Bearer ${t.ownerToken}`, r.path.replace(/\/$/, ""));
      expect(slashed.status, r.path).toBe(200);
      expect(bare.status, r.path).toBe(200);
      expect(bare.body).toEqual(slashed.body);
    }
    // Writes too, and the unslashed form is authenticated the same way.
    const created = await t.http.post("/v1/apps").set(bearer(t.ownerToken)).send({ name: "no-slash" });
    expect(created.status).toBe(201);
    const env = await t.http.post(`/v1/apps/${created.body.id}/environments`).set(bearer(t.ownerToken)).send({ name: "qa" });
    expect(env.status).toBe(201);
    const tok = await t.http.post(`/v1/service-accounts/${sa.id}/tokens`).set(bearer(t.ownerToken)).send({ name: "bare" });
    expect(tok.status).toBe(201);
    const revoke = await t.http.delete(`/v1/service-accounts/${sa.id}/tokens/${tok.body.id}`).set(bearer(t.ownerToken));
    expect(revoke.status).toBe(204);
    const del = await t.http.delete(`/v1/apps/${created.body.id}`).set(bearer(t.ownerToken));
    expect(del.status).toBe(204);
    const anon = await t.http.get("/v1/apps");
    expect(anon.status).toBe(401);
    const dev = await t.http.get("/v1/users").set(bearer(developer.token));
    expect(dev.status).toBe(403);
  });

  it("404s unknown paths under the management prefix as JSON", async () => {
    const res = await t.http.get("/v1/apps/x/y/z/").set(bearer(t.ownerToken));
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Not found" });
  });
});
