import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { bearer } from "./helpers.js";

/**
 * The operator's whole path, over real HTTP: the bootstrap Owner creates an app, a service
 * account, a grant and a token; a CI job then reads secrets with that token through Phase's API
 * (GET /v1/secrets/?app_id=&env=), exactly as a Phase client would from the phase_token.
 */
describe("management API: end-to-end flow to Phase's secrets API", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  it("owner → app → service account → grant → token → the token reads the granted environment only", async () => {
    const owner = bearer(t.ownerToken);
    const app = await t.http.post("/v1/apps/").set(owner).send({ name: "payments" });
    expect(app.status).toBe(201);
    const sa = await t.http.post("/v1/service-accounts/").set(owner).send({ name: "payments-ci" });
    expect(sa.status).toBe(201);
    const grant = await t.http
      .post(`/v1/service-accounts/${sa.body.id}/access/`)
      .set(owner)
      .send({ app_id: app.body.id, environments: ["Production"] });
    expect(grant.status).toBe(200);
    const issued = await t.http.post(`/v1/service-accounts/${sa.body.id}/tokens/`).set(owner).send({ name: "deploy", expires_in: 86_400 });
    expect(issued.status).toBe(201);

    // The Owner (an admin: every environment) writes a secret through Phase's API.
    const secretsUrl = (env: string) => `/v1/secrets/?app_id=${app.body.id}&env=${env}`;
    const created = await t.http
      .post(secretsUrl("Production"))
      .set("Authorization", `Bearer User ${t.ownerToken}`)
      .send({ secrets: [{ key: "STRIPE_KEY", value: "sk_live_123", comment: "" }] });
    expect(created.status).toBe(200);

    // A Phase client derives `Bearer ServiceAccount <token>` from the phase_token's third segment.
    const fromPhaseToken = `Bearer ServiceAccount ${(issued.body.phase_token as string).split(":")[2]}`;
    expect(fromPhaseToken).toBe(issued.body.authorization);
    const read = await t.http.get(secretsUrl("Production")).set("Authorization", fromPhaseToken);
    expect(read.status).toBe(200);
    expect(read.body).toHaveLength(1);
    expect(read.body[0]).toMatchObject({ key: "STRIPE_KEY", value: "sk_live_123" });
    // `production` matches case-insensitively, as in Phase.
    expect((await t.http.get(secretsUrl("production")).set("Authorization", fromPhaseToken)).status).toBe(200);

    // Not granted: Phase answers a service account 401.
    const staging = await t.http.get(secretsUrl("Staging")).set("Authorization", fromPhaseToken);
    expect(staging.status).toBe(401);
    expect(staging.body).toEqual({ error: "Service account cannot access this environment" });

    // The token cannot manage the server.
    const manage = await t.http.get("/v1/apps/").set("Authorization", fromPhaseToken);
    expect(manage.status).toBe(403);

    // Revoking the grant takes effect on the next request…
    const revokeAccess = await t.http
      .delete(`/v1/service-accounts/${sa.body.id}/access/`)
      .set(owner)
      .send({ app_id: app.body.id, environments: ["Production"] });
    expect(revokeAccess.status).toBe(200);
    expect(revokeAccess.body).toEqual([]);
    const denied = await t.http.get(secretsUrl("Production")).set("Authorization", fromPhaseToken);
    expect(denied.status).toBe(401);
    expect(denied.body).toEqual({ error: "Service account cannot access this environment" });

    // …and so does revoking the token, even after access is granted back.
    await t.http.post(`/v1/service-accounts/${sa.body.id}/access/`).set(owner).send({ app_id: app.body.id, environments: ["Production"] });
    expect((await t.http.get(secretsUrl("Production")).set("Authorization", fromPhaseToken)).status).toBe(200);
    const revoke = await t.http.delete(`/v1/service-accounts/${sa.body.id}/tokens/${issued.body.id}/`).set(owner);
    expect(revoke.status).toBe(204);
    const gone = await t.http.get(secretsUrl("Production")).set("Authorization", fromPhaseToken);
    expect(gone.status).toBe(401);
    expect(gone.body).toEqual({ error: "Token expired or deleted" });
  });

  it("a service-account token expires on schedule for Phase's API too", async () => {
    const owner = bearer(t.ownerToken);
    const app = (await t.http.post("/v1/apps/").set(owner).send({ name: "expiring", environments: ["prod"] })).body;
    const sa = (await t.http.post("/v1/service-accounts/").set(owner).send({ name: "expiring-ci" })).body;
    await t.http.post(`/v1/service-accounts/${sa.id}/access/`).set(owner).send({ app_id: app.id, environments: ["prod"] });
    const tok = (await t.http.post(`/v1/service-accounts/${sa.id}/tokens/`).set(owner).send({ name: "1m", expires_in: 60 })).body;
    const url = `/v1/secrets/?app_id=${app.id}&env=prod`;
    const ok = await t.http.get(url).set("Authorization", tok.authorization);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual([]);
    t.clock.advance(60_000);
    const expired = await t.http.get(url).set("Authorization", tok.authorization);
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: "Token expired or deleted" });
  });
});
