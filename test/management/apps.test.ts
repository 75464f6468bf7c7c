import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { bearer, createApp, createServiceAccountWithToken, ISO, UUID } from "./helpers.js";

describe("management API: apps and environments", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  const post = (url: string, body?: unknown) => {
    const r = t.http.post(url).set(bearer(t.ownerToken));
    return body === undefined ? r : r.send(body as object);
  };

  it("creates an app with the default environments and stores a wrapped key for each", async () => {
    const res = await post("/v1/apps/", { name: "billing" });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["created_at", "environments", "id", "name", "updated_at"]);
    expect(res.body.id).toMatch(UUID);
    expect(res.body.name).toBe("billing");
    expect(res.body.created_at).toMatch(ISO);
    expect(res.body.updated_at).toMatch(ISO);
    expect(res.body.environments.map((e: { name: string }) => e.name)).toEqual(["Development", "Staging", "Production"]);
    for (const e of res.body.environments) expect(Object.keys(e).sort()).toEqual(["id", "name"]);

    const rows = await t.db.query<{ name: string; key_len: number }>(
      `SELECT name, octet_length(wrapped_key) AS key_len FROM environments WHERE app_id = $1 ORDER BY sort_order`,
      [res.body.id],
    );
    expect(rows.map((r) => r.name)).toEqual(["Development", "Staging", "Production"]);
    for (const r of rows) expect(Number(r.key_len)).toBeGreaterThan(32);
  });

  it("creates an app with the environments given, in order", async () => {
    const body = await createApp(t, "search", ["dev", "prod"]);
    expect(body.environments.map((e) => e.name)).toEqual(["dev", "prod"]);
  });

  it("lists apps and reads one by id", async () => {
    const created = await createApp(t, "listed");
    const list = await t.http.get("/v1/apps/").set(bearer(t.ownerToken));
    expect(list.status).toBe(200);
    expect(list.body).toContainEqual(created);
    const one = await t.http.get(`/v1/apps/${created.id}/`).set(bearer(t.ownerToken));
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created);
  });

  it("refuses a duplicate app name with 409, case-insensitively, and creates nothing", async () => {
    await createApp(t, "dupe");
    for (const name of ["dupe", "DUPE"]) {
      const res = await post("/v1/apps/", { name });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: `An app named '${name}' already exists.` });
    }
    const rows = await t.db.query(`SELECT id FROM apps WHERE lower(name) = 'dupe'`);
    expect(rows).toHaveLength(1);
  });

  it.each([
    [{}, "Invalid body field 'name': is required"],
    [{ name: "" }, "Invalid body field 'name': must not be empty"],
    [{ name: "   " }, "Invalid body field 'name': must not be empty"],
    [{ name: 42 }, "Invalid body field 'name': must be a string"],
    [{ name: "a".repeat(65) }, "Invalid body field 'name': must be at most 64 characters"],
    [{ name: "a::b" }, "Invalid body field 'name': must not contain ':' or control characters"],
    [{ name: "x", environments: [] }, "Invalid body field 'environments': must name at least one environment"],
    [{ name: "x", environments: "dev" }, "Invalid body field 'environments': must be an array of environment names"],
    [{ name: "x", environments: ["ok", "has space"] }, "Invalid body field 'environments.1': must start with a letter or digit and contain only letters, digits, '-' and '_'"],
    [{ name: "x", environments: ["dev", "DEV"] }, "Environment names must be unique (case-insensitive)."],
    [{ name: "x", enviroments: ["dev"] }, 'Invalid body: Unrecognized key: "enviroments"'],
    [[], "Invalid body: must be a JSON object"],
  ])("rejects %j with 400 and creates nothing", async (body, error) => {
    const before = await t.db.query(`SELECT count(*)::int AS n FROM apps`);
    const res = await post("/v1/apps/", body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
    expect(await t.db.query(`SELECT count(*)::int AS n FROM apps`)).toEqual(before);
  });

  it("rejects a missing body and malformed JSON with 400", async () => {
    const empty = await t.http.post("/v1/apps/").set(bearer(t.ownerToken));
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({ error: "Invalid body: must be a JSON object" });
    const bad = await t.http.post("/v1/apps/").set(bearer(t.ownerToken)).set("Content-Type", "application/json").send("{nope");
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: "Request body must be valid JSON." });
  });

  it("adds an environment (201), refuses a duplicate name case-insensitively (409)", async () => {
    const app = await createApp(t, "envs");
    const res = await post(`/v1/apps/${app.id}/environments/`, { name: "Preview" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(UUID), name: "Preview" });
    const again = await post(`/v1/apps/${app.id}/environments/`, { name: "preview" });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: `Environment 'preview' already exists in App ${app.id}` });
    const one = await t.http.get(`/v1/apps/${app.id}/`).set(bearer(t.ownerToken));
    expect(one.body.environments.map((e: { name: string }) => e.name)).toEqual(["Development", "Staging", "Production", "Preview"]);
    const bad = await post(`/v1/apps/${app.id}/environments/`, { name: "" });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: "Invalid body field 'name': must not be empty" });
  });

  it.each(["not-a-uuid", randomUUID(), "00000000-0000-0000-0000-00000000000z", "'; DROP TABLE apps; --"])(
    "answers 404 for app id %s on every app route",
    async (id) => {
      const error = { error: `App with ID ${id} not found` };
      const path = `/v1/apps/${encodeURIComponent(id)}/`;
      for (const res of [
        await t.http.get(path).set(bearer(t.ownerToken)),
        await t.http.delete(path).set(bearer(t.ownerToken)),
        await post(`${path}environments/`, { name: "x" }),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body).toEqual(error);
      }
    },
  );

  it("deletes an app with its environments and grants (204), then 404s", async () => {
    const app = await createApp(t, "doomed");
    const sa = await createServiceAccountWithToken(t, "doomed-reader");
    const grant = await post(`/v1/service-accounts/${sa.id}/access/`, { app_id: app.id, environments: ["Production"] });
    expect(grant.status).toBe(200);

    const res = await t.http.delete(`/v1/apps/${app.id}/`).set(bearer(t.ownerToken));
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect(await t.db.query(`SELECT id FROM environments WHERE app_id = $1`, [app.id])).toEqual([]);
    expect(await t.db.query(`SELECT id FROM environment_access WHERE service_account_id = $1`, [sa.id])).toEqual([]);
    // The service account itself survives.
    expect(await t.db.query(`SELECT id FROM service_accounts WHERE id = $1`, [sa.id])).toHaveLength(1);

    const again = await t.http.get(`/v1/apps/${app.id}/`).set(bearer(t.ownerToken));
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ error: `App with ID ${app.id} not found` });
  });
});
