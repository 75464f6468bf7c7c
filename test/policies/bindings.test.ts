import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createServiceAccountWithToken, createUserWithToken, ISO } from "../management/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";

describe("/v1/policies/{name}/bindings/", () => {
  let t: TestServer;
  let dev: { id: string; token: string };
  let sa: { id: string; token: string };
  beforeAll(async () => {
    t = await startTestServer();
    dev = await createUserWithToken(t, "dev@example.com", "Developer");
    sa = await createServiceAccountWithToken(t, "reporting-service");
  });
  afterAll(async () => t?.close());

  const as = () => bearer(t.ownerToken);
  const bindingRows = () => t.db.query(`SELECT policy_id, user_id, service_account_id FROM policy_bindings ORDER BY created_at, id`);

  async function createPolicy(name: string) {
    const res = await t.http
      .post("/v1/policies/")
      .set(as())
      .send({ name, rules: [{ path_pattern: "dynamic/engines/support-db/roles/readonly", permissions: ["read"] }] });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  it("binds a user and a service account (201), lists them in binding order, refuses a second identical binding (409)", async () => {
    const policy = await createPolicy("reporting-service-dynamic");
    const base = "/v1/policies/reporting-service-dynamic/bindings/";

    const toSa = await t.http.post(base).set(as()).send({ service_account_id: sa.id });
    expect(toSa.status).toBe(201);
    expect(toSa.body).toEqual({ policy: "reporting-service-dynamic", user_id: null, service_account_id: sa.id, created_at: expect.stringMatching(ISO) });
    const toUser = await t.http.post(base.slice(0, -1)).set(as()).send({ user_id: dev.id });
    expect(toUser.status).toBe(201);
    expect(toUser.body).toEqual({ policy: "reporting-service-dynamic", user_id: dev.id, service_account_id: null, created_at: expect.stringMatching(ISO) });

    for (const [body, error] of [
      [{ service_account_id: sa.id }, "Policy 'reporting-service-dynamic' is already bound to this service account."],
      [{ user_id: dev.id }, "Policy 'reporting-service-dynamic' is already bound to this user."],
    ] as const) {
      const again = await t.http.post(base).set(as()).send(body);
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ error });
    }
    expect(await bindingRows()).toEqual([
      { policy_id: policy.id, user_id: null, service_account_id: sa.id },
      { policy_id: policy.id, user_id: dev.id, service_account_id: null },
    ]);

    const list = await t.http.get(base).set(as());
    expect(list.status).toBe(200);
    expect(list.body).toEqual([toSa.body, toUser.body]);

    await t.server.container.audit.flush();
    expect(await t.db.query(`SELECT metadata FROM audit_events WHERE event_type = 'policy.bind' ORDER BY id`)).toEqual([
      { metadata: { policy: "reporting-service-dynamic", service_account_id: sa.id } },
      { metadata: { policy: "reporting-service-dynamic", user_id: dev.id } },
    ]);
  });

  it("refuses bodies naming no account, both, or unknown fields (400); unknown accounts and policies (404); nothing stored", async () => {
    await createPolicy("strict");
    const before = await bindingRows();
    const cases: [string, object, number, string][] = [
      ["strict", {}, 400, "Invalid body: must name exactly one of user_id and service_account_id"],
      ["strict", { user_id: dev.id, service_account_id: sa.id }, 400, "Invalid body: must name exactly one of user_id and service_account_id"],
      ["strict", { user_id: "" }, 400, "Invalid body field 'user_id': must not be empty"],
      ["strict", { user_id: 7 }, 400, "Invalid body field 'user_id': must be a string"],
      ["strict", { user_id: dev.id, role: "x" }, 400, 'Invalid body: Unrecognized key: "role"'],
      ["strict", { user_id: randomUUID() }, 404, "User not found"],
      ["strict", { user_id: "not-a-uuid" }, 404, "User not found"],
      ["strict", { user_id: sa.id }, 404, "User not found"],
      ["strict", { service_account_id: randomUUID() }, 404, "Service account not found"],
      ["strict", { service_account_id: dev.id }, 404, "Service account not found"],
      ["no-such-policy", { user_id: dev.id }, 404, "Policy 'no-such-policy' not found"],
    ];
    for (const [name, body, status, error] of cases) {
      const res = await t.http.post(`/v1/policies/${name}/bindings/`).set(as()).send(body);
      expect([body, res.status, res.body]).toEqual([body, status, { error }]);
    }
    const missing = await t.http.get("/v1/policies/no-such-policy/bindings/").set(as());
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Policy 'no-such-policy' not found" });
    expect(await bindingRows()).toEqual(before);
  });

  it("a soft-deleted account cannot be bound (404)", async () => {
    await createPolicy("for-gone");
    const gone = await createServiceAccountWithToken(t, "gone");
    await t.db.query(`UPDATE service_accounts SET deleted_at = now() WHERE id = $1`, [gone.id]);
    const res = await t.http.post("/v1/policies/for-gone/bindings/").set(as()).send({ service_account_id: gone.id });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Service account not found" });
  });

  it("DELETE unbinds by body or query (204); 404 when there is no such binding; 400 for no, both or two-place accounts", async () => {
    const policy = await createPolicy("unbind-me");
    const base = "/v1/policies/unbind-me/bindings/";
    const other = await createUserWithToken(t, "other@example.com", "Developer");
    for (const body of [{ user_id: dev.id }, { service_account_id: sa.id }, { user_id: other.id }]) {
      expect((await t.http.post(base).set(as()).send(body)).status).toBe(201);
    }
    const mine = () => t.db.query(`SELECT user_id, service_account_id FROM policy_bindings WHERE policy_id = $1 ORDER BY created_at, id`, [policy.id]);

    const bad: [string, object | undefined, string][] = [
      [base, undefined, "Invalid query: must name exactly one of user_id and service_account_id"],
      [base, {}, "Invalid body: must name exactly one of user_id and service_account_id"],
      [`${base}?user_id=${dev.id}&service_account_id=${sa.id}`, undefined, "Invalid query: must name exactly one of user_id and service_account_id"],
      [`${base}?user_id=${dev.id}`, { user_id: dev.id }, "Name the account in the body or in the query string, not both."],
      [base, { user_id: dev.id, service_account_id: sa.id }, "Invalid body: must name exactly one of user_id and service_account_id"],
    ];
    for (const [url, body, error] of bad) {
      const req = t.http.delete(url).set(as());
      const res = await (body ? req.send(body) : req);
      expect([url, res.status, res.body]).toEqual([url, 400, { error }]);
    }
    expect(await mine()).toHaveLength(3);

    const byBody = await t.http.delete(base).set(as()).send({ user_id: dev.id });
    expect(byBody.status).toBe(204);
    expect(byBody.text).toBe("");
    const byQuery = await t.http.delete(`${base.slice(0, -1)}?service_account_id=${sa.id}`).set(as());
    expect(byQuery.status).toBe(204);
    expect(await mine()).toEqual([{ user_id: other.id, service_account_id: null }]);

    const notBound: [string, object | undefined, string][] = [
      [base, { user_id: dev.id }, "Policy 'unbind-me' is not bound to this user."],
      [`${base}?service_account_id=${sa.id}`, undefined, "Policy 'unbind-me' is not bound to this service account."],
      [base, { user_id: randomUUID() }, "Policy 'unbind-me' is not bound to this user."],
      [base, { user_id: "junk" }, "Policy 'unbind-me' is not bound to this user."],
      ["/v1/policies/nope/bindings/", { user_id: other.id }, "Policy 'nope' not found"],
    ];
    for (const [url, body, error] of notBound) {
      const req = t.http.delete(url).set(as());
      const res = await (body ? req.send(body) : req);
      expect([url, res.status, res.body]).toEqual([url, 404, { error }]);
    }
    expect(await mine()).toEqual([{ user_id: other.id, service_account_id: null }]);

    await t.server.container.audit.flush();
    expect(await t.db.query(`SELECT metadata FROM audit_events WHERE event_type = 'policy.unbind' ORDER BY id`)).toEqual([
      { metadata: { policy: "unbind-me", user_id: dev.id } },
      { metadata: { policy: "unbind-me", service_account_id: sa.id } },
    ]);
  });

  it("bindings go with their user or service account (foreign keys cascade)", async () => {
    const policy = await createPolicy("cascade");
    const u = await createUserWithToken(t, "cascade@example.com", "Developer");
    const s = await createServiceAccountWithToken(t, "cascade-sa");
    await t.http.post("/v1/policies/cascade/bindings/").set(as()).send({ user_id: u.id });
    await t.http.post("/v1/policies/cascade/bindings/").set(as()).send({ service_account_id: s.id });
    const rows = () => t.db.query(`SELECT user_id, service_account_id FROM policy_bindings WHERE policy_id = $1 ORDER BY created_at, id`, [policy.id]);
    expect(await rows()).toHaveLength(2);
    await t.db.query(`DELETE FROM users WHERE id = $1`, [u.id]);
    expect(await rows()).toEqual([{ user_id: null, service_account_id: s.id }]);
    await t.db.query(`DELETE FROM service_accounts WHERE id = $1`, [s.id]);
    expect(await rows()).toEqual([]);
    expect((await t.http.get("/v1/policies/cascade/bindings").set(as())).body).toEqual([]);
  });
});
