import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrapPostgres, type WrappedProvider } from "../leases/helpers.js";
import { dynamicFixture, ROOT_PASSWORD, type DynamicFixture } from "./dynamic-helpers.js";

const FAILED = "One or more dynamic secret leases could not be created";
const keyMap = (p: string) => [
  { id: "username", key_name: `${p}_USER` },
  { id: "password", key_name: `${p}_PASSWORD` },
  { id: "connection_url", key_name: `${p}_URL` },
];

/** GET /v1/secrets/?dynamic|include_dynamic[&lease][&lease_ttl]: dynamic secrets after the static ones. */
describe("GET /v1/secrets/ with dynamic secrets", () => {
  let f: DynamicFixture;
  let flaky: WrappedProvider;
  let svcDb: string;
  let rootDb: string;

  const secretsUrl = (extra: Record<string, string> = {}) => `/v1/secrets/?${new URLSearchParams({ app_id: f.appId, env: "Development", ...extra })}`;
  const list = async (extra: Record<string, string> = {}, raw = "") => f.call("GET", `${secretsUrl(extra)}${raw ? `&${raw}` : ""}`, f.sa.auth);
  const summary = (body: { type: string; key?: string; name?: string; lease?: { status: string } | null }[]) =>
    body.map((s) => (s.type === "dynamic" ? `dynamic:${s.name}:${s.lease ? s.lease.status : "-"}` : `static:${s.key}`));
  const leaseCount = async () => (await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM leases"))[0]!.n;

  beforeAll(async () => {
    flaky = wrapPostgres("flaky-pg");
    f = await dynamicFixture({ providers: [flaky.provider] });
    const created = await f.call("POST", secretsUrl(), f.owner.auth, {
      secrets: [
        { key: "KEY_A", value: "a" },
        { key: "KEY_B", value: "b", path: "/svc" },
      ],
    });
    expect(created.status).toBe(200);
    svcDb = (await f.createPg({ name: "svc-db", path: "/svc", default_ttl: 600, max_ttl: 7200 })).id;
    rootDb = (await f.createPg({ name: "root-db", path: "/", default_ttl: 600, max_ttl: 600 })).id;
  });
  afterAll(async () => f?.close());

  it("without the flag only static secrets; with it, dynamic ones after them, filtered by path only", async () => {
    expect(summary((await list()).body)).toEqual(["static:KEY_A", "static:KEY_B"]);
    expect(summary((await list({ dynamic: "false" })).body)).toEqual(["static:KEY_A", "static:KEY_B"]);
    const flags: Record<string, string>[] = [{ dynamic: "true" }, { dynamic: "" }, { dynamic: "0" }, { include_dynamic: "true" }, { includeDynamic: "yes" }];
    for (const flag of flags) {
      expect(summary((await list(flag)).body), JSON.stringify(flag)).toEqual(["static:KEY_A", "static:KEY_B", "dynamic:root-db:-", "dynamic:svc-db:-"]);
    }
    expect(summary((await list({ dynamic: "true", path: "/svc/" })).body)).toEqual(["static:KEY_B", "dynamic:svc-db:-"]);
    // key and tags filter static secrets only, as in Phase.
    expect(summary((await list({ dynamic: "true", key: "KEY_A" })).body)).toEqual(["static:KEY_A", "dynamic:root-db:-", "dynamic:svc-db:-"]);
    const dyn = (await list({ dynamic: "true", path: "/svc" })).body[1];
    const [def] = (await f.call("GET", f.url("", { id: svcDb }), f.sa.auth)).body;
    expect(dyn).toEqual(def);
    // `lease` without `dynamic` creates nothing.
    const before = await leaseCount();
    expect(summary((await list({ lease: "true" })).body)).toEqual(["static:KEY_A", "static:KEY_B"]);
    expect(await leaseCount()).toBe(before);
  });

  it("?dynamic&lease&lease_ttl: a fresh, working lease per dynamic secret", async () => {
    const res = await list({ dynamic: "true", lease: "true", lease_ttl: "120" });
    expect(res.status).toBe(200);
    expect(summary(res.body)).toEqual(["static:KEY_A", "static:KEY_B", "dynamic:root-db:active", "dynamic:svc-db:active"]);
    for (const s of res.body.slice(2)) {
      expect(s.lease).toMatchObject({ ttl: "00:02:00", secret: s.id, owner: { type: "service_account", data: { id: f.sa.id } } });
      const role = s.lease.credentials[0].value as string;
      expect(await f.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1 AND rolcanlogin", [role])).toHaveLength(1);
    }
    // Without lease_ttl each definition's default applies.
    const defaults = await list({ dynamic: "true", lease: "true" });
    expect(defaults.body.slice(2).map((s: { lease: { ttl: string } }) => s.lease.ttl)).toEqual(["00:10:00", "00:10:00"]);
    const badTtl = { status: 400, body: { error: "lease_ttl must be a valid integer (seconds)" } };
    expect(await list({ dynamic: "true", lease: "true", lease_ttl: "soon" })).toMatchObject(badTtl);
    // Phase reads lease_ttl whenever dynamic secrets are included, with or without `lease`; never without them.
    const before = await leaseCount();
    expect(await list({ dynamic: "true", lease_ttl: "soon" })).toMatchObject(badTtl);
    expect(await list({ include_dynamic: "1", lease: "false", lease_ttl: "1.5" })).toMatchObject(badTtl);
    expect((await list({ lease: "true", lease_ttl: "soon" })).status).toBe(200);
    expect(await leaseCount()).toBe(before);
    // A repeated flag counts by its last value (Django's request.GET.get).
    expect(summary((await list({}, "dynamic=true&dynamic=false")).body)).toEqual(["static:KEY_A", "static:KEY_B"]);
  });

  it("any failed lease: Phase's 400 with failedLeases and the count of the others, which are revoked (their credentials were not delivered)", async () => {
    // TTL over one definition's max only.
    const over = await list({ dynamic: "true", lease: "true", lease_ttl: "3000" });
    expect(over.status).toBe(400);
    expect(over.text).toBe(
      JSON.stringify({
        error: FAILED,
        failedLeases: [{ secretId: rootDb, secretName: "root-db", error: "The specified TTL exceeds the maximum TTL for this dynamic secret." }],
        successfulLeases: 1,
      }),
    );
    const [undelivered] = await f.t.db.query<{ status: string; ttl_seconds: number; revoke_reason: string; upstream_identity: string }>(
      "SELECT status::text, ttl_seconds, revoke_reason, upstream_identity FROM leases WHERE dynamic_secret_id = $1 ORDER BY created_at DESC LIMIT 1",
      [svcDb],
    );
    expect(undelivered).toMatchObject({ status: "REVOKED", ttl_seconds: 3000, revoke_reason: "undelivered" });
    expect(await f.t.db.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [undelivered!.upstream_identity])).toEqual([]);
    const [event] = await f.t.db.query<{ metadata: unknown }>(
      "SELECT e.metadata FROM lease_events e JOIN leases l ON l.id = e.lease_id WHERE l.upstream_identity = $1 AND e.event_type = 'revoke_requested'",
      [undelivered!.upstream_identity],
    );
    expect(event?.metadata).toEqual({ reason: "undelivered", previousStatus: "ACTIVE" });

    const short = await list({ dynamic: "true", lease: "true", lease_ttl: "30" });
    expect(short).toMatchObject({
      status: 400,
      body: {
        error: FAILED,
        failedLeases: [
          { secretId: rootDb, secretName: "root-db", error: "The specified TTL must be at least 60 seconds." },
          { secretId: svcDb, secretName: "svc-db", error: "The specified TTL must be at least 60 seconds." },
        ],
        successfulLeases: 0,
      },
    });

    // A provider failure is reported with Phase's generic message, never the provider's text.
    const flakyId = (await f.createPg({ name: "flaky-db", path: "/svc", provider: "flaky-pg", key_map: keyMap("FLAKY") })).id;
    flaky.failCreates(1);
    const failed = await list({ dynamic: "true", lease: "true", path: "/svc" });
    expect(failed).toMatchObject({
      status: 400,
      body: { error: FAILED, failedLeases: [{ secretId: flakyId, secretName: "flaky-db", error: "An internal error occurred while creating the lease" }], successfulLeases: 1 },
    });
    expect(failed.text).not.toContain("simulated");
    const rows = await f.t.db.query<{ status: string }>("SELECT status::text FROM leases WHERE dynamic_secret_id = $1", [flakyId]);
    expect(rows).toEqual([{ status: "CREATE_FAILED" }]);
  });

  it("no response body ever contained the root password", () => {
    expect(f.bodies.length).toBeGreaterThan(10);
    for (const b of f.bodies) expect(b).not.toContain(ROOT_PASSWORD);
  });
});
