import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { bearer, createApp, ISO, UUID } from "./helpers.js";

describe("management API: service accounts and their access", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  const as = () => bearer(t.ownerToken);

  async function createSa(name: string) {
    const res = await t.http.post("/v1/service-accounts/").set(as()).send({ name });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string };
  }

  it("creates, lists and reads a service account", async () => {
    const res = await t.http.post("/v1/service-accounts/").set(as()).send({ name: "  ci  " });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(UUID), name: "ci", created_at: expect.stringMatching(ISO), updated_at: expect.stringMatching(ISO) });
    const rows = await t.db.query(`SELECT name, deleted_at FROM service_accounts WHERE id = $1`, [res.body.id]);
    expect(rows).toEqual([{ name: "ci", deleted_at: null }]);

    const list = await t.http.get("/v1/service-accounts/").set(as());
    expect(list.status).toBe(200);
    expect(list.body).toContainEqual(res.body);
    const one = await t.http.get(`/v1/service-accounts/${res.body.id}/`).set(as());
    expect(one.status).toBe(200);
    expect(one.body).toEqual(res.body);
  });

  it("refuses a duplicate name (case-insensitive) with 409", async () => {
    await createSa("deployer");
    const res = await t.http.post("/v1/service-accounts/").set(as()).send({ name: "Deployer" });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "A service account named 'Deployer' already exists." });
    expect(await t.db.query(`SELECT id FROM service_accounts WHERE lower(name) = 'deployer'`)).toHaveLength(1);
  });

  it("creates only one of two concurrent same-name requests", async () => {
    const results = await Promise.all([1, 2, 3].map(() => t.http.post("/v1/service-accounts/").set(as()).send({ name: "racer" })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await t.db.query(`SELECT id FROM service_accounts WHERE name = 'racer'`)).toHaveLength(1);
  });

  it.each([
    [{}, "Invalid body field 'name': is required"],
    [{ name: "" }, "Invalid body field 'name': must not be empty"],
    [{ name: "x".repeat(65) }, "Invalid body field 'name': must be at most 64 characters"],
    [{ name: "x", role: "admin" }, 'Invalid body: Unrecognized key: "role"'],
  ])("rejects %j with 400", async (body, error) => {
    const res = await t.http.post("/v1/service-accounts/").set(as()).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
  });

  it("grants environments (case-insensitive names, idempotent), lists and revokes them", async () => {
    const app = await createApp(t, "shop");
    const other = await createApp(t, "another", ["main"]);
    const sa = await createSa("shop-reader");
    const base = `/v1/service-accounts/${sa.id}/access/`;
    const env = (name: string, a = app) => ({ id: a.environments.find((e) => e.name === name)!.id, name });

    const granted = await t.http.post(base).set(as()).send({ app_id: app.id, environments: ["production", "Staging"] });
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual([{ app_id: app.id, app_name: "shop", environments: [env("Staging"), env("Production")] }]);

    const again = await t.http.post(base).set(as()).send({ app_id: app.id, environments: ["Production"] });
    expect(again.body).toEqual(granted.body);
    await t.http.post(base).set(as()).send({ app_id: other.id, environments: ["main"] });
    expect(await t.db.query(`SELECT count(*)::int AS n FROM environment_access WHERE service_account_id = $1`, [sa.id])).toEqual([{ n: 3 }]);

    const listed = await t.http.get(base).set(as());
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      { app_id: other.id, app_name: "another", environments: [env("main", other)] },
      { app_id: app.id, app_name: "shop", environments: [env("Staging"), env("Production")] },
    ]);

    const revoked = await t.http.delete(base).set(as()).send({ app_id: app.id, environments: ["STAGING", "Development"] });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual([
      { app_id: other.id, app_name: "another", environments: [env("main", other)] },
      { app_id: app.id, app_name: "shop", environments: [env("Production")] },
    ]);
    const rows = await t.db.query<{ environment_id: string }>(
      `SELECT environment_id FROM environment_access WHERE service_account_id = $1 ORDER BY environment_id`,
      [sa.id],
    );
    expect(rows.map((r) => r.environment_id).sort()).toEqual([env("Production").id, env("main", other).id].sort());
  });

  it("404s for an unknown environment or app and grants nothing", async () => {
    const app = await createApp(t, "strict");
    const sa = await createSa("strict-reader");
    const base = `/v1/service-accounts/${sa.id}/access/`;
    const env = await t.http.post(base).set(as()).send({ app_id: app.id, environments: ["Production", "nope"] });
    expect(env.status).toBe(404);
    expect(env.body).toEqual({ error: `Environment 'nope' not found in App ${app.id}` });
    for (const appId of [randomUUID(), "not-a-uuid"]) {
      for (const method of ["post", "delete"] as const) {
        const res = await t.http[method](base).set(as()).send({ app_id: appId, environments: ["Production"] });
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: `App with ID ${appId} not found` });
      }
    }
    expect(await t.db.query(`SELECT id FROM environment_access WHERE service_account_id = $1`, [sa.id])).toEqual([]);
  });

  it.each([
    [{ environments: ["x"] }, "Invalid body field 'app_id': is required"],
    [{ app_id: "x" }, "Invalid body field 'environments': is required"],
    [{ app_id: "x", environments: [] }, "Invalid body field 'environments': must name at least one environment"],
    [{ app_id: "x", environments: [""] }, "Invalid body field 'environments.0': must not be empty"],
  ])("rejects the access body %j with 400", async (body, error) => {
    const sa = await createSa(`bad-body-${randomUUID().slice(0, 8)}`);
    const res = await t.http.post(`/v1/service-accounts/${sa.id}/access/`).set(as()).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
  });

  it("answers 404 for an unknown or malformed service account id on every route", async () => {
    const app = await createApp(t, "ghost-app");
    for (const id of [randomUUID(), "nope"]) {
      const base = `/v1/service-accounts/${id}`;
      const responses = [
        await t.http.get(`${base}/`).set(as()),
        await t.http.get(`${base}/access/`).set(as()),
        await t.http.post(`${base}/access/`).set(as()).send({ app_id: app.id, environments: ["Production"] }),
        await t.http.delete(`${base}/access/`).set(as()).send({ app_id: app.id, environments: ["Production"] }),
        await t.http.get(`${base}/tokens/`).set(as()),
        await t.http.post(`${base}/tokens/`).set(as()).send({ name: "x" }),
        await t.http.delete(`${base}/tokens/${randomUUID()}/`).set(as()),
      ];
      for (const res of responses) {
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: "Service account not found" });
      }
    }
  });
});
