import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV_CONTEXT_REQUIRED } from "../../src/auth/environment-context.js";
import { FORCE_WARNING } from "../../src/leases/service.js";
import { pythonDatetime } from "../../src/leases/errors.js";
import { wrapPostgres, type WrappedProvider } from "../leases/helpers.js";
import { dynamicFixture, ROOT_PASSWORD, type DynamicFixture } from "./dynamic-helpers.js";

const phaseTs = (d: Date) => `${d.toISOString().slice(0, -1)}000Z`;

describe("leases over /v1/secrets/dynamic/ and /v1/secrets/dynamic/leases/: every Phase message and status", () => {
  let f: DynamicFixture;
  let flaky: WrappedProvider;
  let secretId: string;
  let prodSecretId: string;

  beforeAll(async () => {
    flaky = wrapPostgres("flaky-pg");
    f = await dynamicFixture({ providers: [flaky.provider] });
    secretId = (await f.createPg({ name: "a-reader", path: "/leases", default_ttl: 3600, max_ttl: 7200 })).id;
    prodSecretId = (await f.createPg({ name: "prod-reader", env: "Production" })).id;
  });
  afterAll(async () => f?.close());

  /** A fresh lease for `auth` through Phase's GET; returns the lease object. */
  async function lease(auth: string, ttl?: number, id = secretId, env = "Development") {
    const res = await f.call("GET", f.url("", { id, lease: "true", ...(ttl ? { ttl: String(ttl) } : {}) }, env), auth);
    if (res.status !== 200) throw new Error(`lease: ${res.status} ${res.text}`);
    return res.body[0].lease as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  }
  const status = async (id: string) => (await f.t.db.query<{ status: string }>("SELECT status::text FROM leases WHERE id = $1", [id]))[0]!.status;
  const leaseCount = async () => (await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM leases"))[0]!.n;

  it("GET ?lease: Phase's flag truthiness; ttl rules and messages; nothing created on a 400", async () => {
    const leaseOf = async (extra: Record<string, string>) => (await f.call("GET", f.url("", { id: secretId, ...extra }), f.dev.auth)).body[0].lease;
    expect(await leaseOf({})).toBeNull();
    expect(await leaseOf({ lease: "false" })).toBeNull();
    expect(await leaseOf({ lease: "FALSE" })).toBeNull();
    for (const v of ["", "0", "no", "true"]) expect((await leaseOf({ lease: v }))?.status, v).toBe("active");
    expect((await leaseOf({ lease: "1", ttl: "0" })).ttl).toBe("01:00:00"); // 0 means the default
    expect((await leaseOf({ lease: "1", ttl: " +90 " })).ttl).toBe("00:01:30"); // Python int()
    expect((await leaseOf({ lease: "1", ttl: "" }))?.ttl).toBe("01:00:00"); // empty: the default
    // A repeated flag counts by its last value (Django's request.GET.get).
    expect((await f.call("GET", `${f.url("", { id: secretId, lease: "true" })}&lease=false`, f.dev.auth)).body[0].lease).toBeNull();
    expect((await f.call("GET", `${f.url("", { id: secretId, lease: "false" })}&lease=1`, f.dev.auth)).body[0].lease?.status).toBe("active");

    const before = await leaseCount();
    const cases: [Record<string, string>, string][] = [
      [{ ttl: "abc" }, "ttl must be a valid integer (seconds)"],
      [{ ttl: "1.5" }, "ttl must be a valid integer (seconds)"],
      [{ ttl: "59" }, "The specified TTL must be at least 60 seconds."],
      [{ ttl: "-5" }, "The specified TTL must be at least 60 seconds."],
      [{ ttl: "7201" }, "The specified TTL exceeds the maximum TTL for this dynamic secret."],
      // Phase reads ttl with or without `lease`.
      [{ lease: "false", ttl: "abc" }, "ttl must be a valid integer (seconds)"],
    ];
    for (const [extra, error] of cases) {
      const res = await f.call("GET", f.url("", { id: secretId, lease: "true", ...extra }), f.dev.auth);
      expect({ status: res.status, body: res.body }, JSON.stringify(extra)).toEqual({ status: 400, body: { error } });
    }
    const noLease = await f.call("GET", f.url("", { id: secretId, ttl: "abc" }), f.dev.auth);
    expect({ status: noLease.status, text: noLease.text }).toEqual({ status: 400, text: '{"error":"ttl must be a valid integer (seconds)"}' });
    // ... but only after "No dynamic secrets found".
    const none = await f.call("GET", f.url("", { name: "no-such", lease: "true", ttl: "abc" }), f.dev.auth);
    expect({ status: none.status, text: none.text }).toEqual({ status: 404, text: '{"error":"No dynamic secrets found"}' });
    expect(await leaseCount()).toBe(before);
  });

  it("GET ?lease stops at the first provider failure with Phase's 500; earlier leases are revoked, their credentials never delivered", async () => {
    const flakyId = (
      await f.createPg({
        name: "b-flaky",
        path: "/leases",
        provider: "flaky-pg",
        key_map: [
          { id: "username", key_name: "FLAKY_USER" },
          { id: "password", key_name: "FLAKY_PASSWORD" },
          { id: "connection_url", key_name: "FLAKY_URL" },
        ],
      })
    ).id;
    flaky.failCreates(1, { retryable: false });
    const res = await f.call("GET", f.url("", { path: "/leases", lease: "true" }), f.sa.auth);
    expect(res).toMatchObject({ status: 500, body: { error: "An internal error occurred while creating the lease" } });
    expect(res.text).not.toContain(ROOT_PASSWORD);
    const rows = await f.t.db.query<{ dynamic_secret_id: string; status: string; revoke_reason: string | null; upstream_identity: string }>(
      "SELECT dynamic_secret_id, status::text, revoke_reason, upstream_identity FROM leases WHERE owner_service_account_id = $1 ORDER BY created_at",
      [f.sa.id],
    );
    // One instant on the test clock: in status order.
    rows.sort((x, y) => y.status.localeCompare(x.status));
    expect(rows.map(({ upstream_identity: _, ...r }) => r)).toEqual([
      // Phase keeps it to its TTL although the 500 delivered none of its credentials: revoked at once here.
      { dynamic_secret_id: secretId, status: "REVOKED", revoke_reason: "undelivered" },
      { dynamic_secret_id: flakyId, status: "CREATE_FAILED", revoke_reason: "creation_failed" }, // rolled back: its role removed again
    ]);
    expect(await f.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [rows[0]!.upstream_identity])).toEqual([]);
    const ok = await f.call("GET", f.url("", { path: "/leases", lease: "true" }), f.sa.auth);
    expect(ok.body.map((s: { name: string; lease: { status: string } }) => [s.name, s.lease.status])).toEqual([
      ["a-reader", "active"],
      ["b-flaky", "active"],
    ]);
    await f.call("DELETE", f.url("", { id: flakyId }), f.owner.auth);
  });

  it("GET leases/: secret_id required, unknown and static ids 404, access checked on the secret's environment", async () => {
    expect(await f.call("GET", f.url("leases/"), f.dev.auth)).toMatchObject({ status: 400, body: { error: "secret_id is required" } });
    expect(await f.call("GET", "/v1/secrets/dynamic/leases/", f.dev.auth)).toMatchObject({ status: 400, body: { error: "secret_id is required" } });
    const nf = { status: 404, body: { error: "Secret not found" } };
    expect(await f.call("GET", "/v1/secrets/dynamic/leases/?secret_id=00000000-0000-4000-8000-000000000000", f.dev.auth)).toMatchObject(nf);
    expect(await f.call("GET", "/v1/secrets/dynamic/leases/?secret_id=nope", f.dev.auth)).toMatchObject(nf);
    const staticSecret = await f.t.http
      .post(`/v1/secrets/?app_id=${f.appId}&env=Development`)
      .set("Authorization", f.owner.auth)
      .send({ secrets: [{ key: "PLAIN", value: "v" }] });
    expect(await f.call("GET", `/v1/secrets/dynamic/leases/?secret_id=${staticSecret.body[0].id}`, f.dev.auth)).toMatchObject(nf);
    // secretId (camelCase) works; app_id/env are ignored when secret_id is given.
    expect((await f.call("GET", `/v1/secrets/dynamic/leases/?secretId=${secretId}&app_id=${f.appId}&env=Production`, f.dev.auth)).status).toBe(200);
    expect(await f.call("GET", `/v1/secrets/dynamic/leases/?secret_id=${prodSecretId}`, f.dev.auth)).toMatchObject({
      status: 403,
      body: { error: "User cannot access this environment" },
    });
    expect(await f.call("GET", `/v1/secrets/dynamic/leases/?secret_id=${prodSecretId}`, f.sa.auth)).toMatchObject({
      status: 401,
      body: { error: "Service account cannot access this environment" },
    });
  });

  it("GET leases/: newest first, credentials [], owners as Phase shows a user and a service account", async () => {
    const own = await f.call("POST", f.url(), f.owner.auth, { name: "owners", path: "/owners", provider: "postgresql", config: f.pgConfig(), default_ttl: 600, max_ttl: 600 });
    const id = own.body.id as string;
    const byDev = await lease(f.dev.auth, undefined, id);
    f.t.clock.advance(1_000);
    const bySa = await lease(f.sa.auth, undefined, id);
    const [dev] = await f.t.db.query<{ username: string; full_name: string; email: string; created_at: Date; updated_at: Date }>(
      "SELECT username, full_name, email, created_at, updated_at FROM users WHERE id = $1",
      [f.dev.id],
    );
    const devOwner = {
      type: "organisation_member",
      data: {
        id: f.dev.id,
        username: dev!.username,
        fullName: dev!.full_name,
        email: dev!.email,
        role: { id: "developer", name: "Developer" },
        createdAt: phaseTs(dev!.created_at),
        updatedAt: phaseTs(dev!.updated_at),
      },
    };
    expect(Object.keys(devOwner.data)).toEqual(["id", "username", "fullName", "email", "role", "createdAt", "updatedAt"]);
    expect(byDev.owner).toEqual(devOwner);
    const [sa] = await f.t.db.query<{ name: string }>("SELECT name FROM service_accounts WHERE id = $1", [f.sa.id]);
    expect(bySa.owner).toEqual({ type: "service_account", data: { id: f.sa.id, name: sa!.name, role: null } });

    const listed = await f.call("GET", `/v1/secrets/dynamic/leases/?secret_id=${id}`, f.dev.auth);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      { ...bySa, credentials: [] },
      { ...byDev, credentials: [] },
    ]);
    expect(listed.text).not.toContain(byDev.credentials[1].value);
  });

  it("PUT leases/ (renew): Phase's messages; owners renew their own, others need Owner/Admin", async () => {
    const mine = await lease(f.dev.auth, 600);
    const url = f.url("leases/");
    expect(await f.call("PUT", url, f.dev.auth)).toMatchObject({ status: 400, body: { error: "lease_id is required" } });
    expect(await f.call("PUT", url, f.dev.auth, { ttl: 60 })).toMatchObject({ status: 400, body: { error: "lease_id is required" } });
    expect(await f.call("PUT", url, f.dev.auth, "{bad")).toMatchObject({ status: 400, body: { error: "Request body must be valid JSON." } });
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: "00000000-0000-4000-8000-000000000000" })).toMatchObject({ status: 404, body: { error: "Lease not found" } });
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: 42 })).toMatchObject({ status: 404, body: { error: "Lease not found" } });
    // A lease of another environment is not found through this one.
    expect(await f.call("PUT", f.url("leases/", {}, "Production"), f.owner.auth, { lease_id: mine.id })).toMatchObject({ status: 404, body: { error: "Lease not found" } });
    expect(await f.call("PUT", "/v1/secrets/dynamic/leases/", f.owner.auth, { lease_id: mine.id })).toMatchObject({ status: 403, body: { error: ENV_CONTEXT_REQUIRED } });
    expect(await f.call("PUT", url, f.dev2.auth, { lease_id: mine.id, ttl: 60 })).toMatchObject({
      status: 403,
      body: { error: "You don't have permission to update leases for other accounts." },
    });
    expect(await f.call("PUT", url, f.sa.auth, { lease_id: mine.id, ttl: 60 })).toMatchObject({ status: 403 });
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: mine.id, ttl: "60" })).toMatchObject({ status: 400, body: { error: "ttl must be a valid integer (seconds)" } });
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: mine.id, ttl: 60.5 })).toMatchObject({ status: 400, body: { error: "ttl must be a valid integer (seconds)" } });
    // Phase checks the cumulative total before `ttl` alone, so a ttl over max_ttl gets the total's message.
    const overTotal = { status: 400, body: { error: "The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: 6600 seconds" } };
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: mine.id, ttl: 7201 })).toMatchObject(overTotal);
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: mine.id, ttl: 6601 })).toMatchObject(overTotal);
    // Phase's `if not lease_id`: any falsy JSON value is missing.
    for (const lease_id of [0, false, [], {}]) {
      expect(await f.call("PUT", url, f.dev.auth, { lease_id, ttl: 60 }), JSON.stringify(lease_id)).toMatchObject({ status: 400, body: { error: "lease_id is required" } });
    }
    // Nothing changed so far.
    const [unchanged] = await f.t.db.query<{ ttl_seconds: number; renewed_at: Date | null }>("SELECT ttl_seconds, renewed_at FROM leases WHERE id = $1", [mine.id]);
    expect(unchanged).toEqual({ ttl_seconds: 600, renewed_at: null });

    // ttl defaults to 3600; the owner renews (Phase's PAT quirk refuses even that; we don't).
    const own = await f.call("PUT", url, f.dev.auth, { lease_id: mine.id });
    expect(own.status).toBe(200);
    expect(own.body.message).toMatch(/^Lease renewed successfully\. Updated expiry: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    const byAdmin = await f.call("PUT", url, f.admin.auth, { lease_id: mine.id, ttl: 120 });
    expect(byAdmin.status).toBe(200);
    const [row] = await f.t.db.query<{ ttl_seconds: number; expires_at: Date }>("SELECT ttl_seconds, expires_at FROM leases WHERE id = $1", [mine.id]);
    expect(row!.ttl_seconds).toBe(600 + 3600 + 120);
    expect(row!.expires_at.getTime()).toBe(Date.parse(mine.expiresAt) + 3720_000);

    // Expired: Phase's message, before and after the reaper revoked it.
    const short = await lease(f.dev.auth, 60);
    f.t.clock.advance(60_000);
    const expired = { status: 400, body: { error: "This lease has expired and cannot be renewed" } };
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: short.id, ttl: 60 })).toMatchObject(expired);
    // Phase checks the TTL rules before expiry.
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: short.id, ttl: 7200 })).toMatchObject({
      status: 400,
      body: { error: "The renewal TTL would exceed the maximum TTL for this dynamic secret. Maximum remaining renewal time: 7140 seconds" },
    });
    await f.c.reaper.tick();
    expect(await status(short.id)).toBe("EXPIRED");
    expect(await f.call("PUT", url, f.dev.auth, { lease_id: short.id, ttl: 60 })).toMatchObject(expired);

    const listed = (await f.call("GET", f.url("leases/", { secret_id: secretId }), f.dev.auth)).body;
    expect(listed.find((l: { id: string }) => l.id === short.id)).toMatchObject({ status: "expired", revokedAt: phaseTs(f.t.clock.now()) });

    // Revoked before its expiry: Phase's message with str(revoked_at); the expiry stays as it was.
    const gone = await lease(f.dev.auth, 600);
    f.t.clock.advance(1_234);
    const revokedAt = f.t.clock.now();
    expect((await f.call("DELETE", url, f.dev.auth, { lease_id: gone.id })).status).toBe(200);
    const renewRevoked = await f.call("PUT", url, f.dev.auth, { lease_id: gone.id, ttl: 60 });
    expect({ status: renewRevoked.status, body: renewRevoked.body }).toEqual({
      status: 400,
      body: { error: `Lease has already been revoked at ${pythonDatetime(revokedAt)}` },
    });
    const [goneRow] = await f.t.db.query<{ expires_at: Date }>("SELECT expires_at FROM leases WHERE id = $1", [gone.id]);
    expect(goneRow!.expires_at.toISOString()).toBe(new Date(Date.parse(gone.expiresAt)).toISOString());
  });

  it("DELETE leases/ (revoke): body or query, Phase's messages, only-own rule, failure 500 with the reaper retrying", async () => {
    const url = f.url("leases/");
    expect(await f.call("DELETE", url, f.dev.auth)).toMatchObject({ status: 400, body: { error: "lease_id is required" } });
    expect(await f.call("DELETE", f.url("leases/", { lease_id: "00000000-0000-4000-8000-000000000000" }), f.dev.auth)).toMatchObject({
      status: 404,
      body: { error: "Lease not found" },
    });
    const mine = await lease(f.dev.auth);
    expect(await f.call("DELETE", url, f.dev2.auth, { lease_id: mine.id })).toMatchObject({
      status: 403,
      body: { error: "You don't have permission to delete leases for other accounts." },
    });
    expect(await f.call("DELETE", url, f.sa.auth, { lease_id: mine.id })).toMatchObject({ status: 403 });
    expect(await status(mine.id)).toBe("ACTIVE");
    expect(await f.call("DELETE", f.url("leases/", { lease_id: mine.id }), f.dev.auth)).toMatchObject({ status: 200, body: { message: "Lease revoked successfully" } });
    expect(await status(mine.id)).toBe("REVOKED");
    expect(await f.call("DELETE", url, f.dev.auth, { lease_id: mine.id })).toMatchObject({ status: 200, body: { message: "Lease was already revoked" } });
    // Phase's `request.data.get("lease_id") or request.query_params.get("lease_id")`: a falsy body value gives way to the query.
    const viaQuery = await lease(f.dev.auth);
    for (const lease_id of ["", 0, null]) {
      expect(await f.call("DELETE", url, f.dev.auth, { lease_id }), JSON.stringify(lease_id)).toMatchObject({ status: 400, body: { error: "lease_id is required" } });
    }
    expect(await f.call("DELETE", f.url("leases/", { lease_id: viaQuery.id }), f.dev.auth, { lease_id: "" })).toMatchObject({
      status: 200,
      body: { message: "Lease revoked successfully" },
    });
    expect(await status(viaQuery.id)).toBe("REVOKED");
    // An Admin revokes anyone's.
    const other = await lease(f.sa.auth);
    expect(await f.call("DELETE", url, f.admin.auth, { lease_id: other.id })).toMatchObject({ status: 200, body: { message: "Lease revoked successfully" } });

    // Provider failure: Phase's 500; the lease stays revoking and the reaper finishes the job.
    const flakyId = (await f.createPg({ name: "c-flaky", path: "/flaky", provider: "flaky-pg" })).id;
    const doomed = await lease(f.dev.auth, undefined, flakyId);
    flaky.failRevokes(1);
    const failed = await f.call("DELETE", url, f.dev.auth, { lease_id: doomed.id });
    expect(failed).toMatchObject({ status: 500, body: { error: "An internal error occurred while revoking the lease" } });
    expect(failed.text).not.toContain(ROOT_PASSWORD);
    const pending = (await f.call("GET", f.url("leases/", { secret_id: flakyId }), f.dev.auth)).body[0];
    expect(pending).toMatchObject({ id: doomed.id, status: "revoking", revokedAt: null });
    const role = doomed.credentials[0].value as string;
    expect(await f.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).toHaveLength(1);
    f.t.clock.advance(5_000);
    await f.c.reaper.tick();
    expect(await status(doomed.id)).toBe("REVOKED");
    expect(await f.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).toEqual([]);
    expect(await f.call("DELETE", url, f.dev.auth, { lease_id: doomed.id })).toMatchObject({ status: 200, body: { message: "Lease was already revoked" } });
  });

  it("DELETE leases/?force=true: Owner/Admin only, marks the lease revoked without the provider, with a warning", async () => {
    const mine = await lease(f.dev.auth);
    const url = f.url("leases/", { force: "true" });
    expect(await f.call("DELETE", url, f.dev.auth, { lease_id: mine.id })).toMatchObject({ status: 403, body: { error: "Only an Owner or Admin can force-revoke a lease." } });
    expect(await status(mine.id)).toBe("ACTIVE");
    const forced = await f.call("DELETE", url, f.admin.auth, { lease_id: mine.id });
    expect(forced).toMatchObject({ status: 200, body: { message: "Lease force-revoked", warning: FORCE_WARNING } });
    const [row] = await f.t.db.query<{ status: string; revoke_reason: string }>("SELECT status::text, revoke_reason FROM leases WHERE id = $1", [mine.id]);
    expect(row).toEqual({ status: "REVOKED", revoke_reason: "forced" });
    expect(await f.call("DELETE", url, f.admin.auth, { lease_id: mine.id })).toMatchObject({ status: 200, body: { message: "Lease was already revoked" } });
    // The role was left alone (force never calls the provider): the admin removes it by hand.
    expect(await f.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [mine.credentials[0].value])).toHaveLength(1);
  });

  it("other methods on leases/ are DRF's 405, after authentication", async () => {
    const patch = await f.call("PATCH", f.url("leases/"), f.dev.auth, {});
    expect(patch.status).toBe(405);
    expect(patch.text).toBe('{"error":"Method \\"PATCH\\" not allowed."}');
    expect(patch.headers["allow"]).toBe("GET, PUT, DELETE");
    expect(await f.call("POST", f.url("leases/"), f.dev.auth, {})).toMatchObject({ status: 405, body: { error: 'Method "POST" not allowed.' } });
    expect((await f.call("PATCH", f.url("leases/"), "", {})).status).toBe(401);
  });

  it("no response body and no log line ever contained the root password", () => {
    expect(f.bodies.length).toBeGreaterThan(50);
    for (const b of f.bodies) expect(b).not.toContain(ROOT_PASSWORD);
    // The flaky provider's errors quote it; they reach the logs scrubbed.
    expect(f.t.logs().some((l) => l.includes("[REDACTED]"))).toBe(true);
    for (const l of f.t.logs()) expect(l).not.toContain(ROOT_PASSWORD);
  });
});
