import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAdmin } from "../../src/auth/principal.js";
import type { AccessPolicies } from "../../src/policies/access.js";
import { engineFixture, readonlyRole, roleExists, supportDb, type EngineFixture } from "./helpers.js";

/** Creds and leases on /v1/dynamic/: TTL rules, Vault-style renewal, errors, ownership, revoke-prefix. */
describe("/v1/dynamic/ creds and leases", () => {
  let f: EngineFixture;
  const creds = (body: unknown = {}, token = f.admin, role = "readonly", engine = "support-db") =>
    f.call("POST", `/v1/dynamic/engines/${engine}/creds/${role}`, token, body);

  beforeAll(async () => {
    f = await engineFixture();
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, readonlyRole(f.target.root))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target, { name: "other-db" }))).status).toBe(201);
    expect((await f.call("POST", "/v1/dynamic/engines/other-db/roles", f.admin, readonlyRole(f.target.root))).status).toBe(201);
  });
  afterAll(async () => f?.close());

  it("creds: ttl defaults to the role's, is bounded by its max_ttl, and is validated", async () => {
    const d = await creds();
    expect([d.status, d.body.lease_duration]).toEqual([200, "1h"]);
    const over = await creds({ ttl: "9h" });
    expect(over.status).toBe(400);
    expect(over.body).toEqual({
      error: "The requested ttl (9h) exceeds the role's max_ttl (8h).",
      code: "ttl_exceeds_max",
      details: { requested_ttl: "9h", max_ttl: "8h" },
    });
    for (const [body, code] of [
      [{ ttl: "soon" }, "invalid_ttl"],
      [{ ttl: 30 }, "invalid_ttl"],
      [{ ttl: "1h", extra: 1 }, "invalid_request"],
      [{ metadata: "x" }, "invalid_request"],
      [{ metadata: { blob: "x".repeat(5000) } }, "invalid_request"],
    ] as const) {
      const r = await creds(body);
      expect([r.status, r.body.code], JSON.stringify(body).slice(0, 60)).toEqual([400, code]);
    }
    const [{ n }] = (await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM leases")) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("renew: from now, capped at the role's max_ttl from issue with a warning; expired leases are 410", async () => {
    const t0 = f.t.clock.now().getTime();
    const lease = (await creds({ ttl: "2h" })).body;
    const renew = (increment?: unknown) => f.call("POST", `/v1/dynamic/leases/${lease.lease_id}/renew`, f.admin, increment === undefined ? {} : { increment });

    // A shorter increment shortens the lease (Vault: the increment counts from now).
    f.t.clock.advance(10 * 60_000);
    const short = await renew("30m");
    expect(short.body).toMatchObject({ expires_at: new Date(t0 + 40 * 60_000).toISOString(), lease_duration: "30m", warnings: [] });
    // No increment: the role's default (1h).
    const dflt = await renew();
    expect(dflt.body).toMatchObject({ expires_at: new Date(t0 + 70 * 60_000).toISOString(), lease_duration: "1h", warnings: [] });
    // Past the max (8h from issue): capped, with a warning.
    f.t.clock.advance(50 * 60_000);
    const capped = await renew("8h");
    expect(capped.status).toBe(200);
    expect(capped.body.expires_at).toBe(new Date(t0 + 8 * 3600_000).toISOString());
    expect(capped.body.warnings).toEqual([
      `The increment (8h) goes past the role's max_ttl (8h from issue); the lease now expires at ${new Date(t0 + 8 * 3600_000).toISOString()}.`,
    ]);
    expect(capped.body.lease_duration).toBe("7h");
    const [row] = await f.t.db.query<{ ttl_seconds: number }>("SELECT ttl_seconds FROM leases WHERE id = $1", [lease.lease_id.slice(6)]);
    expect(row!.ttl_seconds).toBe(8 * 3600);
    const events = await f.t.db.query<{ metadata: Record<string, unknown> }>(
      "SELECT metadata FROM lease_events WHERE lease_id = $1 AND event_type = 'renewed' ORDER BY id",
      [lease.lease_id.slice(6)],
    );
    expect(events.map((e) => [e.metadata["increment"], e.metadata["capped"]])).toEqual([[1800, false], [3600, false], [28800, true]]);

    for (const [increment, code] of [["-1h", "invalid_ttl"], ["later", "invalid_ttl"]] as const) {
      const r = await renew(increment);
      expect([r.status, r.body.code]).toEqual([400, code]);
    }
    const extra = await f.call("POST", `/v1/dynamic/leases/${lease.lease_id}/renew`, f.admin, { ttl: "1h" });
    expect([extra.status, extra.body.code]).toEqual([400, "invalid_request"]);

    f.t.clock.set(t0 + 8 * 3600_000);
    const expired = await renew("1h");
    expect(expired.status).toBe(410);
    expect(expired.body).toEqual({ error: "The lease has expired and can no longer be renewed.", code: "lease_expired" });
    // The reaper revokes it; renew still says expired.
    await f.c.reaper.tick();
    expect((await f.call("GET", `/v1/dynamic/leases/${lease.lease_id}`, f.admin)).body).toMatchObject({ status: "expired", revoke_reason: "expired" });
    expect((await renew("1h")).body.code).toBe("lease_expired");
    f.t.clock.set(t0);
  });

  it("lease lookups: unknown ids are 404 lease_not_found; revoked leases cannot be renewed", async () => {
    for (const id of ["lease_00000000-0000-4000-8000-000000000000", "nope", "00000000-0000-4000-8000-000000000000"]) {
      for (const [method, path] of [["GET", ""], ["DELETE", ""], ["POST", "/renew"]] as const) {
        const r = await f.call(method, `/v1/dynamic/leases/${id}${path}`, f.admin, method === "POST" ? {} : undefined);
        expect(r.status).toBe(404);
        expect(r.body).toEqual({ error: "Lease not found.", code: "lease_not_found" });
      }
    }
    const lease = (await creds()).body;
    expect((await f.call("DELETE", `/v1/dynamic/leases/${lease.lease_id}`, f.admin)).body.status).toBe("revoked");
    const r = await f.call("POST", `/v1/dynamic/leases/${lease.lease_id}/renew`, f.admin, { increment: "1h" });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ error: "The lease has been revoked and cannot be renewed.", code: "lease_revoked" });
    const bad = await f.call("GET", "/v1/dynamic/leases?status=gone", f.admin);
    expect([bad.status, bad.body.code]).toEqual([400, "invalid_request"]);
    const unknownEngine = await f.call("GET", "/v1/dynamic/leases?engine=nope", f.admin);
    expect([unknownEngine.status, unknownEngine.body.code]).toEqual([404, "engine_not_found"]);
  });

  it("a non-admin creds caller owns its lease: it lists, renews and revokes its own, nobody else's", async () => {
    const sa = await f.serviceAccount();
    const other = await f.serviceAccount();
    const policies: AccessPolicies = {
      allows: async (p, path, permission) =>
        isAdmin(p) || ([sa.id, other.id].includes(p.id) && path === "dynamic/engines/support-db/roles/readonly" && permission === "read"),
    };
    const c = f.c as { policies: AccessPolicies };
    const before = c.policies;
    c.policies = policies;
    try {
      const mine = await creds({ ttl: "1h" }, sa.token);
      expect(mine.status).toBe(200);
      const theirs = await creds({ ttl: "1h" }, other.token);
      expect((await creds({}, sa.token, "readonly", "other-db")).body.code).toBe("permission_denied");
      const listed = await f.call("GET", "/v1/dynamic/leases", sa.token);
      expect(listed.body.leases.map((l: { lease_id: string }) => l.lease_id)).toEqual([mine.body.lease_id]);
      expect(listed.body.leases[0].owner).toEqual({ type: "service_account", id: sa.id });
      for (const [method, path] of [["GET", ""], ["POST", "/renew"], ["DELETE", ""]] as const) {
        const r = await f.call(method, `/v1/dynamic/leases/${theirs.body.lease_id}${path}`, sa.token, method === "POST" ? {} : undefined);
        expect([r.status, r.body.code], `${method} ${path}`).toEqual([404, "lease_not_found"]);
      }
      const renewed = await f.call("POST", `/v1/dynamic/leases/${mine.body.lease_id}/renew`, sa.token, { increment: "2h" });
      expect([renewed.status, renewed.body.lease_duration]).toEqual([200, "2h"]);
      const revoked = await f.call("DELETE", `/v1/dynamic/leases/${mine.body.lease_id}`, sa.token);
      expect([revoked.status, revoked.body.status]).toEqual([200, "revoked"]);
      expect(await roleExists(mine.body.data.username)).toBe(false);
      const prefix = await f.call("POST", "/v1/dynamic/leases/revoke-prefix", sa.token, { prefix: "lease_", engine: "support-db" });
      expect([prefix.status, prefix.body.code]).toEqual([403, "permission_denied"]);
      expect(await roleExists(theirs.body.data.username)).toBe(true);
    } finally {
      c.policies = before;
    }
  });

  it("revoke-prefix: the guide's emergency call revokes every lease of the engine, and only of it", async () => {
    const leases = await Promise.all(Array.from({ length: 6 }, () => creds({ ttl: "1h" })));
    const elsewhere = await creds({ ttl: "1h" }, f.admin, "readonly", "other-db");
    const one = leases[0]!.body;
    // A longer prefix names fewer leases: here exactly one.
    const single = await f.call("POST", "/v1/dynamic/leases/revoke-prefix", f.admin, { prefix: one.lease_id, engine: "support-db" });
    expect(single.body).toEqual({ engine: "support-db", prefix: one.lease_id, revoked: 1, requested: 1, pending: 0 });
    expect(await roleExists(one.data.username)).toBe(false);

    const activeIn = async (engine: string) =>
      (await f.t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM leases l JOIN dynamic_engines e ON e.id = l.engine_id WHERE e.name = $1 AND l.status = 'ACTIVE'",
        [engine],
      ))[0]!.n;
    const before = await activeIn("support-db");
    expect(before).toBeGreaterThanOrEqual(5);
    const r = await f.call("POST", "/v1/dynamic/leases/revoke-prefix", f.admin, { prefix: "lease_", engine: "support-db" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ engine: "support-db", prefix: "lease_", revoked: before, requested: before, pending: 0 });
    for (const l of leases) expect(await roleExists(l.body.data.username)).toBe(false);
    expect(await activeIn("support-db")).toBe(0);
    expect(await activeIn("other-db")).toBe(1);
    expect(await roleExists(elsewhere.body.data.username)).toBe(true);
    const retried = await f.t.db.query("SELECT metadata FROM lease_events WHERE event_type = 'revoke_attempt_failed'");
    expect(retried).toEqual([]);

    for (const [body, status, code] of [
      [{ prefix: "lease_" }, 400, "invalid_request"],
      [{ engine: "support-db" }, 400, "invalid_request"],
      [{ prefix: "db_", engine: "support-db" }, 400, "invalid_request"],
      [{ prefix: "lease_", engine: "nope" }, 404, "engine_not_found"],
    ] as const) {
      const x = await f.call("POST", "/v1/dynamic/leases/revoke-prefix", f.admin, body);
      expect([x.status, x.body.code], JSON.stringify(body)).toEqual([status, code]);
    }
    await f.c.audit.flush();
    const audit = await f.t.db.query<{ metadata: Record<string, unknown> }>("SELECT metadata FROM audit_events WHERE event_type = 'engine.revoke_prefix' ORDER BY id");
    expect(audit.map((a) => a.metadata["prefix"])).toEqual([one.lease_id, "lease_"]);
  });

  it("provider failures: an unreachable target is 502 engine_unreachable; a failing statement 502 credential_creation_failed; nothing is left", async () => {
    const bad = { ...readonlyRole(f.target.root), name: "broken", creation_statements: [`CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'`, "GRANT SELECT ON missing_table TO \"{{name}}\""] };
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, bad)).status).toBe(201);
    const r = await creds({}, f.admin, "broken");
    expect(r.status).toBe(502);
    expect(r.body).toEqual({ error: "The target system refused to create the credential; nothing was left behind.", code: "credential_creation_failed" });
    const [failed] = await f.t.db.query<{ status: string; upstream_identity: string; last_error: string }>(
      "SELECT status::text, upstream_identity, last_error FROM leases WHERE engine_role = 'broken'",
    );
    expect(failed!.status).toBe("CREATE_FAILED");
    expect(failed!.last_error).toMatch(/missing_table/);
    expect(await roleExists(failed!.upstream_identity)).toBe(false);

    // The root password changed behind the engine's back: its credentials no longer log in.
    await f.target.db.query(`ALTER ROLE "${f.target.root}" PASSWORD 'changed-elsewhere'`);
    try {
      const u = await creds();
      expect(u.status).toBe(502);
      expect(u.body).toEqual({ error: "The engine's root credentials could not reach the target system.", code: "engine_unreachable" });
    } finally {
      await f.target.db.query(`ALTER ROLE "${f.target.root}" PASSWORD '${f.target.rootPassword}'`);
    }
    expect((await creds()).status).toBe(200);
  });
});
