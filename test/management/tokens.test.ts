import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { bearer, createServiceAccountWithToken, createUserWithToken, HEX64, ISO, UUID } from "./helpers.js";

// The client-side token formats of Phase's SDKs and Terraform provider.
const PSS_SERVICE_V2 = /^pss_service:v2:([a-fA-F0-9]{64}):([a-fA-F0-9]{64}):([a-fA-F0-9]{64}):([a-fA-F0-9]{64})$/;
const PSS_USER_V1 = /^pss_user:v1:([a-fA-F0-9]{64}):([a-fA-F0-9]{64}):([a-fA-F0-9]{64}):([a-fA-F0-9]{64})$/;
const FORBIDDEN = { error: "This action requires an Owner or Admin user token." };
const GONE = { error: "Token expired or deleted" };

describe("management API: tokens", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  const as = () => bearer(t.ownerToken);
  /** A management call: 403 proves the token authenticated (it is not an admin), 401 that it did not. */
  const probe = (authorization: string) => t.http.get("/v1/apps/").set("Authorization", authorization);

  it("issues a service-account token: shown once, Phase's formats, only its hash stored", async () => {
    const sa = (await t.http.post("/v1/service-accounts/").set(as()).send({ name: "deploy" })).body;
    const res = await t.http.post(`/v1/service-accounts/${sa.id}/tokens/`).set(as()).send({ name: "github-actions" });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["authorization", "expires_at", "id", "name", "phase_token", "token"]);
    const { id, token, phase_token, authorization } = res.body;
    expect(id).toMatch(UUID);
    expect(res.body.name).toBe("github-actions");
    expect(res.body.expires_at).toBeNull();
    expect(token).toMatch(HEX64);
    expect(phase_token).toMatch(PSS_SERVICE_V2);
    expect(PSS_SERVICE_V2.exec(phase_token)![1]).toBe(token);
    expect(authorization).toBe(`Bearer ServiceAccount ${token}`);

    // Nowhere in api_tokens, in any column, is the raw token; the row holds its hash.
    const dump = await t.db.query<{ row: string }>(`SELECT row_to_json(a)::text AS row FROM api_tokens a`);
    expect(dump.length).toBeGreaterThan(1);
    for (const { row } of dump) expect(row.toLowerCase()).not.toContain(token);
    const [row] = await t.db.query<{ token_hash: string; kind: string; service_account_id: string }>(
      `SELECT token_hash, kind, service_account_id FROM api_tokens WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ token_hash: expect.stringMatching(HEX64), kind: "SERVICE_ACCOUNT", service_account_id: sa.id });
    expect(row!.token_hash).not.toBe(token);

    // It authenticates, in every accepted header form, as this service account.
    for (const header of [authorization, `Bearer ${token}`]) {
      const r = await probe(header);
      expect(r.status).toBe(403);
      expect(r.body).toEqual(FORBIDDEN);
    }
    const principal = await t.server.container.authenticator.authenticate({ type: "ServiceAccount", token });
    expect(principal).toMatchObject({ kind: "service_account", id: sa.id, tokenId: id });
    // A service-account token is not a user token.
    expect((await probe(`Bearer User ${token}`)).body).toEqual(GONE);
  });

  it("issues a user token in pss_user:v1 form", async () => {
    const dev = await createUserWithToken(t, "dev-format@example.com", "Developer");
    const res = await t.http.post(`/v1/users/${dev.id}/tokens/`).set(as()).send({ name: "laptop" });
    expect(res.status).toBe(201);
    expect(res.body.phase_token).toMatch(PSS_USER_V1);
    expect(PSS_USER_V1.exec(res.body.phase_token)![1]).toBe(res.body.token);
    expect(res.body.authorization).toBe(`Bearer User ${res.body.token}`);
    const r = await probe(res.body.authorization);
    expect(r.status).toBe(403);
  });

  it("honours expires_in: valid until then, 401 'Token expired or deleted' after", async () => {
    const sa = await createServiceAccountWithToken(t, "short-lived");
    const issuedAt = t.clock.now().getTime();
    const res = await t.http.post(`/v1/service-accounts/${sa.id}/tokens/`).set(as()).send({ name: "1h", expires_in: 3600 });
    expect(res.status).toBe(201);
    expect(res.body.expires_at).toBe(new Date(issuedAt + 3_600_000).toISOString());
    const header = res.body.authorization as string;

    expect((await probe(header)).status).toBe(403);
    t.clock.advance(3_599_000);
    expect((await probe(header)).status).toBe(403);
    t.clock.advance(1_000);
    const expired = await probe(header);
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual(GONE);
    // The account's token without an expiry still works.
    expect((await probe(`Bearer ServiceAccount ${sa.token}`)).status).toBe(403);
  });

  it.each([
    [{ name: "x", expires_in: 0 }, "expires_in"],
    [{ name: "x", expires_in: -5 }, "expires_in"],
    [{ name: "x", expires_in: 1.5 }, "expires_in"],
    [{ name: "x", expires_in: "3600" }, "expires_in"],
    [{ name: "x", expires_in: 10 * 365 * 24 * 3600 + 1 }, "expires_in"],
  ])("rejects %j with 400 and creates no token", async (body, field) => {
    const sa = (await t.http.post("/v1/service-accounts/").set(as()).send({ name: `bad-${randomUUID().slice(0, 8)}` })).body;
    const res = await t.http.post(`/v1/service-accounts/${sa.id}/tokens/`).set(as()).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: `Invalid body field '${field}': must be a whole number of seconds from 1 to 315360000` });
    expect(await t.db.query(`SELECT id FROM api_tokens WHERE service_account_id = $1`, [sa.id])).toEqual([]);
  });

  it("rejects a token without a name", async () => {
    const sa = (await t.http.post("/v1/service-accounts/").set(as()).send({ name: "nameless" })).body;
    for (const [body, error] of [
      [{}, "Invalid body field 'name': is required"],
      [{ name: " " }, "Invalid body field 'name': must not be empty"],
    ] as const) {
      const res = await t.http.post(`/v1/service-accounts/${sa.id}/tokens/`).set(as()).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error });
    }
  });

  it("lists tokens without any secret, and revocation takes effect on the next request", async () => {
    const sa = await createServiceAccountWithToken(t, "revocable");
    const second = (await t.http.post(`/v1/service-accounts/${sa.id}/tokens/`).set(as()).send({ name: "second", expires_in: 60 })).body;
    const header = `Bearer ServiceAccount ${sa.token}`;
    expect((await probe(header)).status).toBe(403); // authenticates (and records last use)

    const list = await t.http.get(`/v1/service-accounts/${sa.id}/tokens/`).set(as());
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(2);
    for (const tok of list.body) expect(Object.keys(tok).sort()).toEqual(["created_at", "expires_at", "id", "last_used_at", "name", "revoked_at"]);
    expect(list.body[1]).toEqual({
      id: second.id,
      name: "second",
      expires_at: second.expires_at,
      revoked_at: null,
      last_used_at: null,
      created_at: expect.stringMatching(ISO),
    });
    expect(JSON.stringify(list.body)).not.toContain(sa.token);

    const firstId = list.body[0].id as string;
    const del = await t.http.delete(`/v1/service-accounts/${sa.id}/tokens/${firstId}/`).set(as());
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    const after = await probe(header);
    expect(after.status).toBe(401);
    expect(after.body).toEqual(GONE);
    await expect(t.server.container.authenticator.authenticate({ type: "ServiceAccount", token: sa.token })).rejects.toThrow("Token expired or deleted");
    // The other token is untouched.
    expect((await probe(second.authorization)).status).toBe(403);

    const [row] = await t.db.query<{ revoked_at: Date | null }>(`SELECT revoked_at FROM api_tokens WHERE id = $1`, [firstId]);
    expect(row!.revoked_at).toEqual(t.clock.now());
    const relisted = await t.http.get(`/v1/service-accounts/${sa.id}/tokens/`).set(as());
    expect(relisted.body[0].revoked_at).toBe(t.clock.now().toISOString());

    // Revoking again, or a token of another account, or a malformed id: 404.
    const other = await createServiceAccountWithToken(t, "bystander");
    const otherId = (await t.http.get(`/v1/service-accounts/${other.id}/tokens/`).set(as())).body[0].id;
    for (const tokenId of [firstId, otherId, "nope", randomUUID()]) {
      const res = await t.http.delete(`/v1/service-accounts/${sa.id}/tokens/${tokenId}/`).set(as());
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: "Token not found" });
    }
    expect((await probe(`Bearer ServiceAccount ${other.token}`)).status).toBe(403);
  });

  it("revokes a user's token, which then stops working", async () => {
    const dev = await createUserWithToken(t, "dev-revoke@example.com", "Developer");
    const list = await t.http.get(`/v1/users/${dev.id}/tokens/`).set(as());
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    expect((await probe(`Bearer User ${dev.token}`)).status).toBe(403);
    const del = await t.http.delete(`/v1/users/${dev.id}/tokens/${list.body[0].id}/`).set(as());
    expect(del.status).toBe(204);
    const res = await probe(`Bearer User ${dev.token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(GONE);
  });

  it("never writes a token to the logs", async () => {
    const sa = await createServiceAccountWithToken(t, "quiet");
    await probe(`Bearer ServiceAccount ${sa.token}`);
    const logs = t.logs().join("\n");
    expect(logs).not.toContain(sa.token);
    expect(logs).not.toContain(t.ownerToken);
  });
});
