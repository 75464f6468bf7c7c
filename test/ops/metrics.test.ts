import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgDefinition, drain, META, startLeaseHarness, wrapPostgres, type LeaseHarness, type WrappedProvider } from "../leases/helpers.js";
import { adminWithTokens, bearer } from "../ratelimit/helpers.js";
import { startTestServer } from "../support/server.js";
import { parseMetrics, value, type Sample } from "./prometheus.js";

const TOKEN = randomBytes(24).toString("hex");
const DURATION = "leasehold_http_request_duration_seconds";
const ALL_STATES = ["creating", "active", "revoking", "revoke_failed", "revoked", "expired", "create_failed"];

describe("/metrics (METRICS_TOKEN set)", () => {
  let h: LeaseHarness;
  let wrapped: WrappedProvider;
  let secretId: string;

  beforeAll(async () => {
    wrapped = wrapPostgres("metrics-pg");
    h = await startLeaseHarness({ env: { METRICS_TOKEN: TOKEN, RATE_LIMIT_DEFAULT: "3/minute" }, providers: [wrapped.provider] });
    secretId = (await createPgDefinition(h, { provider: "metrics-pg", name: "metered", defaultTtl: 60, maxTtl: 600 })).id;
  });
  afterAll(async () => h?.close());

  async function scrape(): Promise<{ text: string; samples: Sample[] }> {
    const res = await h.t.http.get("/metrics").set("Authorization", `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    return { text: res.text, samples: parseMetrics(res.text) };
  }
  const leasesByState = (s: Sample[]) => Object.fromEntries(ALL_STATES.map((state) => [state, value(s, "leasehold_leases", { state })]));

  it("refuses scrapes without the token (401, WWW-Authenticate), accepts the scheme in any case", async () => {
    for (const auth of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `Basic ${TOKEN}`, `Bearer ${h.t.ownerToken}`]) {
      const req = h.t.http.get("/metrics");
      const res = await (auth ? req.set("Authorization", auth) : req);
      expect(res.status, String(auth)).toBe(401);
      expect(res.body).toEqual({ error: "A valid metrics token is required." });
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="metrics"');
    }
    expect((await h.t.http.get("/metrics").set("Authorization", `bearer ${TOKEN}`)).status).toBe(200);
    const { samples } = await scrape();
    expect(value(samples, `${DURATION}_count`, { method: "GET", route: "/metrics", status_code: "401" })).toBe(6);
    expect(value(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0); // Node's process metrics too
  });

  it("times requests by route pattern and status (never raw URLs); counts rate-limit rejections", async () => {
    const admin = await adminWithTokens(h.t);
    for (let i = 0; i < 3; i++) expect((await h.t.http.get("/v1/apps/").set(bearer(admin.tokens[0]!))).status).toBe(200);
    expect((await h.t.http.get("/v1/apps/").set(bearer(admin.tokens[0]!))).status).toBe(429);
    const other = await adminWithTokens(h.t);
    const secretish = `no-such-${randomBytes(8).toString("hex")}`;
    expect((await h.t.http.get(`/v1/apps/${h.appId}/`).set(bearer(other.tokens[0]!))).status).toBe(200);
    expect((await h.t.http.get(`/v1/${secretish}/`).set(bearer(other.tokens[0]!))).status).toBe(404);

    const { text, samples } = await scrape();
    const apps = { method: "GET", route: "/v1/apps/" };
    expect(value(samples, `${DURATION}_count`, { ...apps, status_code: "200" })).toBe(3);
    expect(value(samples, `${DURATION}_count`, { ...apps, status_code: "429" })).toBe(1);
    expect(value(samples, `${DURATION}_bucket`, { ...apps, status_code: "200", le: "+Inf" })).toBe(3);
    expect(value(samples, `${DURATION}_sum`, { ...apps, status_code: "200" })).toBeGreaterThan(0);
    expect(value(samples, `${DURATION}_count`, { method: "GET", route: "/v1/apps/:id/", status_code: "200" })).toBe(1);
    expect(value(samples, `${DURATION}_count`, { method: "GET", route: "unmatched", status_code: "404" })).toBe(1);
    expect(value(samples, "leasehold_rate_limit_rejections_total")).toBe(1);
    expect(text).not.toContain(h.appId);
    expect(text).not.toContain(secretish);
  });

  it("leases by state and the reaper backlog at scrape time; revocation lag from expiry, recorded by the reaper", async () => {
    let { samples } = await scrape();
    expect(leasesByState(samples)).toEqual(Object.fromEntries(ALL_STATES.map((s) => [s, 0])));
    expect(value(samples, "leasehold_reaper_backlog")).toBe(0);
    expect(value(samples, "leasehold_lease_revocation_lag_seconds_count")).toBe(0);

    const { lease } = await h.c.leases.createLease(h.owner, META, { secretId, environmentId: h.envId, ttl: 60 });
    ({ samples } = await scrape());
    expect(leasesByState(samples)).toMatchObject({ active: 1, expired: 0 });
    expect(value(samples, "leasehold_reaper_backlog")).toBe(0);

    h.t.clock.advance(65_000); // expired 5 s ago, not revoked yet
    ({ samples } = await scrape());
    expect(leasesByState(samples)).toMatchObject({ active: 1, expired: 0 });
    expect(value(samples, "leasehold_reaper_backlog")).toBe(1);

    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, revoked: 1 });
    ({ samples } = await scrape());
    expect(leasesByState(samples)).toEqual({ ...Object.fromEntries(ALL_STATES.map((s) => [s, 0])), expired: 1 });
    expect(value(samples, "leasehold_reaper_backlog")).toBe(0);
    const lag = "leasehold_lease_revocation_lag_seconds";
    expect(value(samples, `${lag}_count`)).toBe(1);
    expect(value(samples, `${lag}_sum`)).toBe(5);
    expect(value(samples, `${lag}_bucket`, { le: "2" })).toBe(0);
    expect(value(samples, `${lag}_bucket`, { le: "5" })).toBe(1);
    expect(lease.status).toBe("ACTIVE");
  });

  it("counts failed revocation attempts by provider; manual revocations add no lag", async () => {
    const { lease } = await h.c.leases.createLease(h.owner, META, { secretId, environmentId: h.envId, ttl: 600 });
    wrapped.failRevokes(1);
    await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id }).catch(() => undefined);
    let { samples } = await scrape();
    expect(value(samples, "leasehold_lease_revocation_failures_total", { provider: "metrics-pg" })).toBe(1);
    expect(leasesByState(samples)).toMatchObject({ revoking: 1, expired: 1 });
    await drain(h);
    ({ samples } = await scrape());
    expect(leasesByState(samples)).toMatchObject({ revoking: 0, revoked: 1, expired: 1 });
    expect(value(samples, "leasehold_lease_revocation_failures_total", { provider: "metrics-pg" })).toBe(1);
    expect(value(samples, "leasehold_lease_revocation_lag_seconds_count")).toBe(1);
  });

  it("never logs a scrape below warn", () => {
    const scrapes = h.t.logs().filter((l) => l.includes('"url":"/metrics"'));
    expect(scrapes).toEqual([]);
  });
});

describe("/metrics configuration", () => {
  it("is off by default: 404, and no request is timed", async () => {
    const t = await startTestServer({ env: { LEASEHOLD_REAPER_SCHEDULE: "off" } });
    try {
      expect((await t.http.get("/metrics")).status).toBe(404);
      expect((await t.http.get("/metrics")).body).toEqual({ error: "Not found" });
      const text = await t.server.container.metrics.scrape();
      expect(text).not.toContain(`${DURATION}_count`);
      expect(text).not.toContain("process_cpu_user_seconds_total");
    } finally {
      await t.close();
    }
  });

  it("METRICS_ENABLED=true without a token serves it openly; each server counts only its own traffic", async () => {
    const [a, b] = [
      await startTestServer({ env: { METRICS_ENABLED: "true", LEASEHOLD_REAPER_SCHEDULE: "off" } }),
      await startTestServer({ env: { METRICS_ENABLED: "true", LEASEHOLD_REAPER_SCHEDULE: "off" } }),
    ];
    try {
      for (let i = 0; i < 2; i++) expect((await a.http.get("/")).status).toBe(200);
      expect((await b.http.get("/")).status).toBe(200);
      const root = { method: "GET", route: "/", status_code: "200" };
      const fromA = parseMetrics((await a.http.get("/metrics")).text);
      const fromB = parseMetrics((await b.http.get("/metrics")).text);
      expect(value(fromA, `${DURATION}_count`, root)).toBe(2);
      expect(value(fromB, `${DURATION}_count`, root)).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
