import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { bearer, createApp, createUserWithToken, ISO, UUID } from "./helpers.js";

describe("management API: users and the role rules", () => {
  let t: TestServer;
  let admin: { id: string; token: string };
  beforeAll(async () => {
    t = await startTestServer();
    admin = await createUserWithToken(t, "admin@example.com", "Admin");
  });
  afterAll(async () => t?.close());

  const as = (token = t.ownerToken) => bearer(token);
  const count = async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`))[0]!.n;

  it("creates a user (role in any case, email normalised), lists and reads it", async () => {
    const res = await t.http
      .post("/v1/users/")
      .set(as())
      .send({ email: " Ada@Example.COM ", username: "ada", full_name: "Ada Lovelace", role: "developer" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      email: "ada@example.com",
      username: "ada",
      full_name: "Ada Lovelace",
      role: "Developer",
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
    const rows = await t.db.query(`SELECT email, username, full_name, role::text AS role FROM users WHERE id = $1`, [res.body.id]);
    expect(rows).toEqual([{ email: "ada@example.com", username: "ada", full_name: "Ada Lovelace", role: "DEVELOPER" }]);

    const list = await t.http.get("/v1/users/").set(as());
    expect(list.status).toBe(200);
    expect(list.body).toContainEqual(res.body);
    expect(list.body.map((u: { role: string }) => u.role)).toContain("Owner");
    const one = await t.http.get(`/v1/users/${res.body.id}/`).set(as());
    expect(one.status).toBe(200);
    expect(one.body).toEqual(res.body);
  });

  it.each(["Owner", "ADMIN", "Developer"])("accepts the role %s and stores the enum", async (role) => {
    const res = await t.http.post("/v1/users/").set(as()).send({ email: `${role.toLowerCase()}-${randomUUID()}@example.com`, role });
    expect(res.status).toBe(201);
    expect(res.body.role).toBe({ OWNER: "Owner", ADMIN: "Admin", DEVELOPER: "Developer" }[role.toUpperCase()]);
    expect(res.body.username).toBeNull();
    expect(res.body.full_name).toBeNull();
  });

  it("refuses a duplicate email (any case) with 409", async () => {
    await t.http.post("/v1/users/").set(as()).send({ email: "twice@example.com", role: "Developer" });
    const before = await count();
    const res = await t.http.post("/v1/users/").set(as()).send({ email: "TWICE@example.com", role: "Developer" });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "A user with email 'twice@example.com' already exists." });
    expect(await count()).toBe(before);
  });

  it.each([
    [{ role: "Developer" }, "Invalid body field 'email': is required"],
    [{ email: "not-an-email", role: "Developer" }, "Invalid body field 'email': must be a valid email address"],
    [{ email: "a@b", role: "Developer" }, "Invalid body field 'email': must be a valid email address"],
    [{ email: "x@example.com" }, "Invalid body field 'role': is required"],
    [{ email: "x@example.com", role: "Superuser" }, "Invalid body field 'role': must be one of Owner, Admin, Developer"],
    [{ email: "x@example.com", role: 1 }, "Invalid body field 'role': must be one of Owner, Admin, Developer"],
    [{ email: "x@example.com", role: "Developer", username: "" }, "Invalid body field 'username': must not be empty"],
    [{ email: "x@example.com", role: "Developer", password: "x" }, 'Invalid body: Unrecognized key: "password"'],
  ])("rejects %j with 400 and creates nobody", async (body, error) => {
    const before = await count();
    const res = await t.http.post("/v1/users/").set(as()).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
    expect(await count()).toBe(before);
  });

  it("404s for unknown and malformed user ids", async () => {
    for (const id of [randomUUID(), "bogus"]) {
      for (const res of [
        await t.http.get(`/v1/users/${id}/`).set(as()),
        await t.http.get(`/v1/users/${id}/tokens/`).set(as()),
        await t.http.post(`/v1/users/${id}/tokens/`).set(as()).send({ name: "x" }),
        await t.http.get(`/v1/users/${id}/access/`).set(as()),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: "User not found" });
      }
    }
  });

  describe("an Admin", () => {
    it("may create Developers", async () => {
      const res = await t.http.post("/v1/users/").set(as(admin.token)).send({ email: "by-admin@example.com", role: "Developer" });
      expect(res.status).toBe(201);
      expect(res.body.role).toBe("Developer");
    });

    it.each(["Owner", "Admin"])("may not create an %s (403, nothing created)", async (role) => {
      const before = await count();
      const res = await t.http.post("/v1/users/").set(as(admin.token)).send({ email: `no-${role}@example.com`, role });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: "Only an Owner can create a user with the Owner or Admin role." });
      expect(await count()).toBe(before);
    });

    it("may not mint or revoke tokens of the Owner or another Admin, nor change their access", async () => {
      const owner = (await t.http.get("/v1/users/").set(as())).body.find((u: { role: string }) => u.role === "Owner");
      const other = await createUserWithToken(t, "admin2@example.com", "Admin");
      const app = await createApp(t, "guarded");
      const ownerTokenId = (await t.http.get(`/v1/users/${owner.id}/tokens/`).set(as())).body[0].id;
      const tokensBefore = await t.db.query(`SELECT id, revoked_at FROM api_tokens ORDER BY id`);
      for (const target of [owner.id, other.id]) {
        for (const res of [
          await t.http.post(`/v1/users/${target}/tokens/`).set(as(admin.token)).send({ name: "steal" }),
          await t.http.delete(`/v1/users/${target}/tokens/${ownerTokenId}/`).set(as(admin.token)),
          await t.http.post(`/v1/users/${target}/access/`).set(as(admin.token)).send({ app_id: app.id, environments: ["Production"] }),
        ]) {
          expect(res.status).toBe(403);
          expect(res.body).toEqual({ error: "Only an Owner can manage another Owner or Admin." });
        }
      }
      expect(await t.db.query(`SELECT id, revoked_at FROM api_tokens ORDER BY id`)).toEqual(tokensBefore);
      // Reading is allowed.
      expect((await t.http.get(`/v1/users/${owner.id}/tokens/`).set(as(admin.token))).status).toBe(200);
    });

    it("may manage a Developer's tokens and access, and their own tokens", async () => {
      const dev = await createUserWithToken(t, "managed-dev@example.com", "Developer");
      const app = await createApp(t, "dev-app");
      const tok = await t.http.post(`/v1/users/${dev.id}/tokens/`).set(as(admin.token)).send({ name: "by-admin" });
      expect(tok.status).toBe(201);
      const grant = await t.http.post(`/v1/users/${dev.id}/access/`).set(as(admin.token)).send({ app_id: app.id, environments: ["Development"] });
      expect(grant.status).toBe(200);
      expect(grant.body).toEqual([{ app_id: app.id, app_name: "dev-app", environments: [app.environments[0]] }]);
      const own = await t.http.post(`/v1/users/${admin.id}/tokens/`).set(as(admin.token)).send({ name: "second" });
      expect(own.status).toBe(201);
    });
  });

  it("an Owner may create Admins and Owners and manage their tokens", async () => {
    const res = await t.http.post("/v1/users/").set(as()).send({ email: "co-owner@example.com", role: "owner" });
    expect(res.status).toBe(201);
    const tok = await t.http.post(`/v1/users/${res.body.id}/tokens/`).set(as()).send({ name: "t" });
    expect(tok.status).toBe(201);
    // The new Owner's token manages the server.
    const apps = await t.http.get("/v1/apps/").set(bearer(tok.body.token));
    expect(apps.status).toBe(200);
  });
});
