import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { readLog, types, type Page, type WireEvent } from "./api-helpers.js";

/** Management actions through the API are audited: actor, token, IP, user agent and what changed; never a token. */
describe("management events in the audit log", () => {
  let t: TestServer;
  let ownerId: string;
  let ownerTokenId: string;
  const START = new Date("2026-05-01T08:00:00.000Z");
  const AT = new Date("2026-05-01T09:00:00.000Z");
  const issuedTokens: string[] = [];
  // TRUST_PROXY: the client IP comes from X-Real-IP, as behind a reverse proxy.
  const headers = (token: string, typed = false) => ({
    Authorization: typed ? `Bearer User ${token}` : `Bearer ${token}`,
    "User-Agent": "ops-console/3.2",
    "X-Real-IP": "198.51.100.23",
  });

  beforeAll(async () => {
    t = await startTestServer({ clock: new ManualClock(START), env: { TRUST_PROXY: "true" } });
    const row = (await t.db.query<{ id: string; token_id: string }>(
      `SELECT u.id, k.id AS token_id FROM users u JOIN api_tokens k ON k.user_id = u.id WHERE u.role = 'OWNER'`,
    ))[0]!;
    ownerId = row.id;
    ownerTokenId = row.token_id;
    t.clock.set(AT);
  });
  afterAll(async () => t?.close());

  const ownerActor = () => ({ type: "user", id: ownerId, token_id: ownerTokenId });
  const from = { ip: "198.51.100.23", user_agent: "ops-console/3.2" };
  const none = { secret_id: null, path: null, key_digest: null, version: null, secrets: null, lease_id: null };
  const events = async (type: string): Promise<WireEvent[]> => {
    const res = await readLog(t, { event_type: type, order: "asc" });
    expect(res.status).toBe(200);
    return (res.body as Page).events;
  };
  const post = (url: string, body: unknown, token = t.ownerToken) => t.http.post(url).set(headers(token)).send(body as object);

  it("the bootstrap: a system event naming the first Owner and its token's id", async () => {
    expect(await events("owner.bootstrap")).toEqual([
      {
        id: expect.any(String),
        type: "owner.bootstrap",
        timestamp: START.toISOString(),
        actor: { type: "system", id: null, token_id: null },
        ip: null,
        user_agent: null,
        app_id: null,
        environment_id: null,
        ...none,
        metadata: {
          user: { id: ownerId, email: "owner@leasehold.local", role: "OWNER" },
          token: { id: ownerTokenId, name: "bootstrap", source: "provided" },
        },
      },
    ]);
  });

  it("apps and environments: created and deleted, with names kept after the app is gone", async () => {
    const app = await post("/v1/apps/", { name: "shop", environments: ["Development", "Production"] });
    expect(app.status).toBe(201);
    const env = await t.http.post(`/v1/apps/${app.body.id}/environments`).set(headers(t.ownerToken, true)).send({ name: "QA" });
    expect(env.status).toBe(201);
    expect((await post("/v1/apps/", { name: "SHOP" })).status).toBe(409); // refused: not recorded
    const del = await t.http.delete(`/v1/apps/${app.body.id}/`).set(headers(t.ownerToken));
    expect(del.status).toBe(204);

    const envs = [...app.body.environments, { id: env.body.id, name: "QA" }];
    const base = { timestamp: AT.toISOString(), actor: ownerActor(), ...from, ...none };
    expect(await events("app.*,environment.*")).toEqual([
      { id: expect.any(String), type: "app.create", ...base, app_id: app.body.id, environment_id: null, metadata: { name: "shop", environments: app.body.environments } },
      { id: expect.any(String), type: "environment.create", ...base, app_id: app.body.id, environment_id: env.body.id, metadata: { name: "QA" } },
      { id: expect.any(String), type: "app.delete", ...base, app_id: app.body.id, environment_id: null, metadata: { name: "shop", environments: envs, revokingLeases: 0 } },
    ]);
  });

  it("accounts, grants and tokens: who did it, to which account, which environments; the token's id but never the token", async () => {
    const app = await post("/v1/apps/", { name: "billing", environments: ["Development", "Staging", "Production"] });
    const [dev, staging] = app.body.environments as { id: string; name: string }[];
    const sa = await post("/v1/service-accounts/", { name: "deployer" });
    expect(sa.status).toBe(201);
    const admin = await post("/v1/users/", { email: "ada@example.test", role: "Admin" });
    const adminToken = await post(`/v1/users/${admin.body.id}/tokens/`, { name: "laptop", expires_in: 3600 });
    expect(adminToken.status).toBe(201);
    issuedTokens.push(adminToken.body.token);

    // The Admin acts from here on.
    expect((await post("/v1/users/", { email: "root2@example.test", role: "Owner" }, adminToken.body.token)).status).toBe(403); // not recorded
    const developer = await post("/v1/users/", { email: "dev@example.test", role: "Developer" }, adminToken.body.token);
    expect(developer.status).toBe(201);
    const grant = await post(`/v1/service-accounts/${sa.body.id}/access/`, { app_id: app.body.id, environments: ["development", "Staging"] }, adminToken.body.token);
    expect(grant.status).toBe(200);
    const saToken = await post(`/v1/service-accounts/${sa.body.id}/tokens/`, { name: "ci" }, adminToken.body.token);
    expect(saToken.status).toBe(201);
    issuedTokens.push(saToken.body.token);
    // Revoking Staging and Production, of which only Staging was granted: one event.
    const revoke = await t.http.delete(`/v1/service-accounts/${sa.body.id}/access`).set(headers(adminToken.body.token))
      .send({ app_id: app.body.id, environments: ["Staging", "Production"] });
    expect(revoke.status).toBe(200);
    const revokeToken = await t.http.delete(`/v1/service-accounts/${sa.body.id}/tokens/${saToken.body.id}/`).set(headers(adminToken.body.token));
    expect(revokeToken.status).toBe(204);
    expect((await t.http.delete(`/v1/service-accounts/${sa.body.id}/tokens/${saToken.body.id}x/`).set(headers(adminToken.body.token))).status).toBe(404);

    const adminTokenId = adminToken.body.id as string;
    const byOwner = { timestamp: AT.toISOString(), actor: ownerActor(), ...from, ...none, app_id: null, environment_id: null };
    const byAdmin = { ...byOwner, actor: { type: "user", id: admin.body.id, token_id: adminTokenId } };
    const saRef = { type: "service_account", id: sa.body.id };
    expect(await events("service_account.create,user.create,token.*,access.*")).toEqual([
      { id: expect.any(String), type: "service_account.create", ...byOwner, metadata: { service_account: { id: sa.body.id, name: "deployer" } } },
      { id: expect.any(String), type: "user.create", ...byOwner, metadata: { user: { id: admin.body.id, email: "ada@example.test", role: "ADMIN" } } },
      {
        id: expect.any(String), type: "token.create", ...byOwner,
        metadata: { account: { type: "user", id: admin.body.id }, token: { id: adminTokenId, name: "laptop", expires_at: new Date(AT.getTime() + 3_600_000).toISOString() } },
      },
      { id: expect.any(String), type: "user.create", ...byAdmin, metadata: { user: { id: developer.body.id, email: "dev@example.test", role: "DEVELOPER" } } },
      { id: expect.any(String), type: "access.grant", ...byAdmin, app_id: app.body.id, environment_id: dev!.id, metadata: { account: saRef, environment: "Development" } },
      { id: expect.any(String), type: "access.grant", ...byAdmin, app_id: app.body.id, environment_id: staging!.id, metadata: { account: saRef, environment: "Staging" } },
      { id: expect.any(String), type: "token.create", ...byAdmin, metadata: { account: saRef, token: { id: saToken.body.id, name: "ci", expires_at: null } } },
      { id: expect.any(String), type: "access.revoke", ...byAdmin, app_id: app.body.id, environment_id: staging!.id, metadata: { account: saRef, environment: "Staging" } },
      { id: expect.any(String), type: "token.revoke", ...byAdmin, metadata: { account: saRef, token: { id: saToken.body.id } } },
    ]);

    // What the Admin did, by account filter; the grants by environment.
    expect(types((await readLog(t, { account: admin.body.id })).body.events)).toEqual(["token.revoke", "access.revoke", "token.create", "access.grant", "access.grant", "user.create"]);
    expect(types((await readLog(t, { environment: "staging", app_id: app.body.id })).body.events)).toEqual(["access.revoke", "access.grant"]);
  });

  it("no event carries a token, its hash, or the Authorization header", async () => {
    const body = JSON.stringify((await readLog(t, { limit: 1000 })).body);
    const tokens = [t.ownerToken, ...issuedTokens];
    expect(tokens.length).toBe(3);
    for (const token of tokens) {
      expect(body).not.toContain(token);
      expect(body).not.toContain(createHash("sha256").update(token).digest("hex"));
    }
    expect(body).not.toMatch(/Bearer|phase_token|pss_/);
  });
});
