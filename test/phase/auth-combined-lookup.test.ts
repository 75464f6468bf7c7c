import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phaseFixture, type PhaseFixture } from "./fixtures.js";

/**
 * `app_id` + `env` requests resolve token, app, environment and grant in one statement. The
 * answers must be exactly those of the separate lookups: token errors first, then Phase's
 * app/environment 404s, then the grant of the token's own account only.
 */
let f: PhaseFixture;
let otherSa: { auth: string; id: string };
beforeAll(async () => {
  f = await phaseFixture();
  const c = f.t.server.container;
  const sa = await c.identityService.createServiceAccount("other");
  await c.identityService.grantAccess({ kind: "SERVICE_ACCOUNT", id: sa.id }, f.appId, ["Production"]);
  const tok = await c.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: sa.id }, "other");
  otherSa = { id: sa.id, auth: `Bearer ServiceAccount ${tok.token}` };
});
afterAll(async () => f?.close());

const get = (auth: string, appId: string, env: string) =>
  f.t.http.get(`/v1/secrets/?${new URLSearchParams({ app_id: appId, env }).toString()}`).set("Authorization", auth);

describe("one-round-trip authentication for app_id + env", () => {
  it("an unknown token on an unknown app is a token error, not a 404", async () => {
    const res = await get(`Bearer ServiceAccount ${randomBytes(32).toString("hex")}`, randomUUID(), "Nope");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Token expired or deleted" });
  });

  it("a user token sent as a service-account token is refused before the app is looked at", async () => {
    const res = await get(`Bearer ServiceAccount ${f.user.token}`, randomUUID(), "Development");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Token expired or deleted" });
  });

  it("valid token: Phase's app and environment 404s", async () => {
    const app = randomUUID();
    expect((await get(f.sa.auth, app, "Development")).body).toEqual({ error: `App with ID ${app} not found` });
    const res = await get(f.sa.auth, f.appId, "Nope");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `Environment 'Nope' not found in App ${f.appId}` });
  });

  it("the grant counted is the token's own account's, per environment", async () => {
    expect((await get(f.sa.auth, f.appId, "development")).status).toBe(200);
    const denied = await get(f.sa.auth, f.appId, "Production");
    expect(denied.status).toBe(401);
    expect(denied.body).toEqual({ error: "Service account cannot access this environment" });
    // Another account's grant on Production does not open it for this one, and vice versa.
    expect((await get(otherSa.auth, f.appId, "Production")).status).toBe(200);
    expect((await get(otherSa.auth, f.appId, "Development")).status).toBe(401);
  });

  it("users: 403 without a grant, 200 with one; Owners need none", async () => {
    expect((await get(f.user.auth, f.appId, "Development")).status).toBe(200);
    const denied = await get(f.user.auth, f.appId, "Staging");
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ error: "User cannot access this environment" });
    expect((await get(f.owner.auth, f.appId, "Staging")).status).toBe(200);
  });

  it("a revoked grant closes the environment on the next request", async () => {
    const c = f.t.server.container;
    await c.identityService.revokeAccess({ kind: "SERVICE_ACCOUNT", id: otherSa.id }, f.appId, ["Production"]);
    expect((await get(otherSa.auth, f.appId, "Production")).status).toBe(401);
  });
});
