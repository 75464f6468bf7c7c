import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditFixture, readAll, readLog, T0, types, type AuditFixture, type Page, type Query, type WireEvent } from "./api-helpers.js";

/** GET /v1/audit/events over a history made through real HTTP (see auditFixture). */
describe("GET /v1/audit/events", () => {
  let f: AuditFixture;
  beforeAll(async () => {
    f = await auditFixture();
  }, 60_000);
  afterAll(async () => f?.close());

  const ALL_NEWEST_FIRST = [
    // At `leases`: lease_events sort after audit_events at one instant, so they come first here.
    "lease.force_revoked", "lease.revoked", "lease.revoke_requested", "lease.renewed", "lease.created", "lease.created",
    "lease.force_revoke", "dynamic_secret.create",
    // At `read`, `write`, `setup`, then the bootstrap an hour earlier.
    "secret.read", "secret.read",
    "secret.create", "secret.create", "secret.create",
    "token.create", "user.create", "token.create", "user.create", "access.grant", "access.grant", "token.create",
    "service_account.create", "app.create", "app.create",
    "owner.bootstrap",
  ];

  it("returns secret, management and lease events in one stream, newest first, in (time, table, id) order", async () => {
    const res = await readLog(f.t);
    expect(res.status).toBe(200);
    const page = res.body as Page;
    expect(types(page.events)).toEqual(ALL_NEWEST_FIRST);
    expect(page.next_cursor).toBeNull();
    const times = page.events.map((e) => Date.parse(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(page.events.map((e) => e.id)).size).toBe(page.events.length);
    expect(page.events.every((e) => /^(ae|le)_\d+$/.test(e.id))).toBe(true);

    const asc = await readLog(f.t, { order: "asc" });
    expect(asc.status).toBe(200);
    expect((asc.body as Page).events.map((e) => e.id)).toEqual(page.events.map((e) => e.id).reverse());
  });

  it("describes a secret read: actor with token id, IP, user agent, app, environment and each secret's id, key digest, version and path; never a value or a token", async () => {
    const secrets = await f.t.db.query<{ id: string; key_digest: string; path: string }>(
      `SELECT id, key_digest, path FROM secrets WHERE environment_id = $1 ORDER BY path`,
      [f.alpha.dev],
    );
    const res = await readLog(f.t, { event_type: "secret.read", app_id: f.alpha.id });
    expect(res.status).toBe(200);
    expect(res.body.events).toEqual([
      {
        id: expect.stringMatching(/^ae_\d+$/),
        type: "secret.read",
        timestamp: f.at.read.toISOString(),
        actor: { type: "service_account", id: f.sa.id, token_id: f.sa.tokenId },
        ip: "127.0.0.1",
        user_agent: "audit-fixture/1.0",
        app_id: f.alpha.id,
        environment_id: f.alpha.dev,
        secret_id: null,
        path: null,
        key_digest: null,
        version: null,
        secrets: secrets.map((s) => ({ id: s.id, key_digest: s.key_digest, version: 1, path: s.path })),
        lease_id: null,
        metadata: null,
      },
    ]);

    const everything = JSON.stringify((await readLog(f.t, { limit: 1000 })).body);
    for (const v of f.secretValues) expect(everything).not.toContain(v);
    for (const token of [f.t.ownerToken, f.sa.token, f.dev.token, f.admin.token]) expect(everything).not.toContain(token);
    expect(everything).not.toMatch(/token_hash|tokenHash|password/i);
  });

  it("describes lease events from lease_events: the lease, its definition, app and environment, the acting account", async () => {
    const res = await readLog(f.t, { event_type: "lease.created", order: "asc" });
    expect(res.status).toBe(200);
    const events = res.body.events as WireEvent[];
    expect(events.map((e) => e.lease_id)).toEqual(f.leaseIds);
    expect(events[0]).toEqual({
      id: expect.stringMatching(/^le_\d+$/),
      type: "lease.created",
      timestamp: f.at.leases.toISOString(),
      actor: { type: "service_account", id: f.sa.id, token_id: null },
      ip: "127.0.0.1",
      user_agent: "audit-fixture/1.0",
      app_id: f.alpha.id,
      environment_id: f.alpha.dev,
      secret_id: f.definitionId,
      path: "/db",
      key_digest: null,
      version: null,
      secrets: null,
      lease_id: f.leaseIds[0],
      metadata: { ttl: 3600, expiresAt: new Date(f.at.leases.getTime() + 3_600_000).toISOString(), identity: expect.stringMatching(new RegExp(`^${f.prefix}_reader_`)) },
    });
  });

  describe("filters", () => {
    const only = async (query: Record<string, string | string[]>) => {
      const res = await readLog(f.t, query);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.events as WireEvent[];
    };

    it("app_id: that app's events (its creation, grants, secrets, leases)", async () => {
      const events = await only({ app_id: f.alpha.id });
      expect(types(events)).toEqual([
        "lease.force_revoked", "lease.revoked", "lease.revoke_requested", "lease.renewed", "lease.created", "lease.created",
        "lease.force_revoke", "dynamic_secret.create", "secret.read", "secret.create", "secret.create", "access.grant", "app.create",
      ]);
      expect(events.every((e) => e.app_id === f.alpha.id)).toBe(true);
      expect(types(await only({ app_id: f.beta.id }))).toEqual(["secret.read", "secret.create", "access.grant", "app.create"]);
    });

    it("environment: by id, or by name (any case) with app_id", async () => {
      const byId = await only({ environment: f.beta.dev });
      expect(types(byId)).toEqual(["secret.read", "secret.create", "access.grant"]);
      expect(byId.every((e) => e.environment_id === f.beta.dev)).toBe(true);
      expect((await only({ environment: "development", app_id: f.beta.id })).map((e) => e.id)).toEqual(byId.map((e) => e.id));
      expect(await only({ environment: f.alpha.prod })).toEqual([]);
      const alphaDev = await only({ environment: "Development", app_id: f.alpha.id });
      expect(types(alphaDev)).toEqual([
        "lease.force_revoked", "lease.revoked", "lease.revoke_requested", "lease.renewed", "lease.created", "lease.created",
        "lease.force_revoke", "dynamic_secret.create", "secret.read", "secret.create", "secret.create", "access.grant",
      ]);
      expect(alphaDev.every((e) => e.environment_id === f.alpha.dev)).toBe(true);
    });

    it("account: what one user or service account did (account, actor_id, actor_type)", async () => {
      const bySa = await only({ account: f.sa.id });
      expect(types(bySa)).toEqual([
        "lease.revoked", "lease.revoke_requested", "lease.renewed", "lease.created", "lease.created",
        "secret.read", "secret.read", "secret.create", "secret.create", "secret.create",
      ]);
      expect(bySa.every((e) => e.actor.type === "service_account" && e.actor.id === f.sa.id)).toBe(true);
      expect((await only({ actor_id: f.sa.id, actor_type: "service_account" })).map((e) => e.id)).toEqual(bySa.map((e) => e.id));
      // The same id as a user's: nothing.
      expect(await only({ account: f.sa.id, actor_type: "user" })).toEqual([]);

      const byOwner = await only({ account: f.ownerId });
      expect(types(byOwner)).toEqual([
        "lease.force_revoked", "lease.force_revoke", "dynamic_secret.create",
        "token.create", "user.create", "token.create", "user.create", "access.grant", "access.grant", "token.create",
        "service_account.create", "app.create", "app.create",
      ]);
      expect(byOwner.every((e) => e.actor.id === f.ownerId)).toBe(true);
      // An id that names no account (deleted, or never existed) is still a valid filter.
      expect(await only({ account: "00000000-0000-4000-8000-000000000000" })).toEqual([]);
    });

    it("actor_type alone: every user's, every service account's, or the system's events", async () => {
      expect(types(await only({ actor_type: "system" }))).toEqual(["owner.bootstrap"]);
      const sas = await only({ actor_type: "service_account" });
      expect(sas).toHaveLength(10);
      const users = await only({ actor_type: "user" });
      expect(users).toHaveLength(ALL_NEWEST_FIRST.length - 10 - 1);
      expect(users.every((e) => e.actor.type === "user")).toBe(true);
    });

    it("token_id: what one token did (lease events carry no token and are left out)", async () => {
      const events = await only({ token_id: f.sa.tokenId });
      expect(types(events)).toEqual(["secret.read", "secret.read", "secret.create", "secret.create", "secret.create"]);
      expect(types(await only({ token_id: f.ownerTokenId, event_type: "lease.*" }))).toEqual(["lease.force_revoke"]);
    });

    it("event_type: a comma list, repeated parameters, and prefix.* wildcards", async () => {
      expect(types(await only({ event_type: "app.create,owner.bootstrap" }))).toEqual(["app.create", "app.create", "owner.bootstrap"]);
      expect(types(await only({ event_type: ["token.create", "secret.read"] }))).toEqual([
        "secret.read", "secret.read", "token.create", "token.create", "token.create",
      ]);
      expect(types(await only({ event_type: "lease.*" }))).toEqual(ALL_NEWEST_FIRST.slice(0, 7));
      expect(types(await only({ event_type: "access.*, user.create" }))).toEqual(["user.create", "user.create", "access.grant", "access.grant"]);
      expect(await only({ event_type: "no.such_type" })).toEqual([]);
    });

    it("exclude_event_type: types and prefix.* families left out, also combined with event_type", async () => {
      expect(types(await only({ app_id: f.alpha.id, exclude_event_type: "lease.*,secret.read,audit.*" }))).toEqual([
        "dynamic_secret.create", "secret.create", "secret.create", "access.grant", "app.create",
      ]);
      expect(types(await only({ app_id: f.beta.id, event_type: "secret.*", exclude_event_type: ["secret.create"] }))).toEqual(["secret.read"]);
    });

    it("audit.read: each page read is recorded with its reader, token, IP, user agent and filter (never the cursor)", async () => {
      const seen = await f.t.http
        .get(`/v1/audit/events?app_id=${f.beta.id}&event_type=secret.*&exclude_event_type=lease.*&limit=5`)
        .set("Authorization", `Bearer User ${f.admin.token}`)
        .set("User-Agent", "auditor/2.0");
      expect(seen.status).toBe(200);
      const next = (await readLog(f.t, { limit: 1 })).body as Page;
      await readLog(f.t, { limit: 1, cursor: next.next_cursor! });
      const reads = ((await readLog(f.t, { event_type: "audit.read", exclude_event_type: [], limit: 3 })).body as Page).events;
      expect(reads.map((e) => e.type)).toEqual(["audit.read", "audit.read", "audit.read"]);
      const [second, first, byAdmin] = reads;
      expect(byAdmin).toMatchObject({
        actor: { type: "user", id: f.admin.id, token_id: expect.any(String) },
        ip: "127.0.0.1",
        user_agent: "auditor/2.0",
        app_id: f.beta.id,
        environment_id: null,
        metadata: { filter: { event_type: ["secret.*"], exclude_event_type: ["lease.*"] }, order: "desc", page: "first", events: (seen.body as Page).events.length },
      });
      expect(first).toMatchObject({ actor: { type: "user", id: f.ownerId, token_id: f.ownerTokenId }, metadata: { filter: { exclude_event_type: ["audit.read"] }, page: "first", events: 1 } });
      expect(second?.metadata).toEqual({ filter: { exclude_event_type: ["audit.read"] }, order: "desc", page: "next", events: 1 });
      expect(JSON.stringify(reads)).not.toContain(next.next_cursor!);
    });

    it("since (inclusive) and until (exclusive), as date-times with a zone or dates", async () => {
      expect(types(await only({ since: f.at.read.toISOString(), until: f.at.leases.toISOString() }))).toEqual(["secret.read", "secret.read"]);
      expect(types(await only({ since: "2026-03-01T00:01:00+00:00", until: "2026-03-01T01:02:30+01:00" }))).toEqual([
        "secret.read", "secret.read", "secret.create", "secret.create", "secret.create",
      ]);
      expect(types(await only({ until: "2026-03-01" }))).toEqual(["owner.bootstrap"]);
      expect(await only({ since: "2026-03-02" })).toEqual([]);
    });

    it("filters combine (AND)", async () => {
      const events = await only({ app_id: f.alpha.id, account: f.sa.id, event_type: "secret.*", since: f.at.write.toISOString() });
      expect(types(events)).toEqual(["secret.read", "secret.create", "secret.create"]);
    });
  });

  describe("pagination", () => {
    it("pages of `limit` in the same order as one long page, next_cursor null on the last", async () => {
      const full = (await readLog(f.t, { limit: 1000 })).body as Page;
      for (const limit of [1, 2, 3, 7, 22, 23]) {
        const { events, pages } = await readAll(f.t, { limit });
        expect(events.map((e) => e.id), `limit ${limit}`).toEqual(full.events.map((e) => e.id));
        expect(pages).toBe(Math.ceil(full.events.length / limit));
      }
      const asc = await readAll(f.t, { limit: 4, order: "asc" });
      expect(asc.events.map((e) => e.id)).toEqual(full.events.map((e) => e.id).reverse());
      const filtered = await readAll(f.t, { limit: 2, app_id: f.alpha.id });
      expect(filtered.events.map((e) => e.id)).toEqual(((await readLog(f.t, { app_id: f.alpha.id })).body as Page).events.map((e) => e.id));
    });

    it("limit defaults to 100", async () => {
      const res = await readLog(f.t);
      expect(res.body.events).toHaveLength(ALL_NEWEST_FIRST.length);
    });
  });

  describe("validation (400, with the parameter named)", () => {
    const bad = async (query: Record<string, string | string[]>, error: string) => {
      const res = await readLog(f.t, query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body).toEqual({ error });
    };
    const cursorOf = async (query: Record<string, string>) => ((await readLog(f.t, { ...query, limit: "1" })).body as Page).next_cursor!;

    it("limit", async () => {
      const hint = "Invalid querystring field 'limit': must be a whole number from 1 to 1000";
      for (const limit of ["0", "1001", "abc", "-1", "1.5", "", "99999999"]) await bad({ limit }, hint);
      await bad({ limit: ["1", "2"] }, "Invalid querystring field 'limit': must be given once");
    });

    it("cursor: not base64url, not ours, tampered, or issued for the other order", async () => {
      const hint = "Invalid querystring field 'cursor': must be the next_cursor of a previous page, unchanged";
      const forged = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
      for (const cursor of ["not a cursor!", "abc", forged({ o: "desc", t: "1", s: "xx", i: "1" }), forged({ o: "desc", t: "x", s: "ae", i: "1" }), forged([1, 2]), forged({ o: "desc", t: "1", s: "ae", i: "1", extra: 1 })]) {
        await bad({ cursor }, hint);
      }
      const desc = await cursorOf({});
      await bad({ cursor: desc, order: "asc" }, "Invalid querystring field 'cursor': was issued for order=desc: repeat the query's order");
      // A well-formed cursor is accepted whatever other filters accompany it.
      expect((await readLog(f.t, { cursor: desc, event_type: "owner.bootstrap" })).status).toBe(200);
    });

    it("dates", async () => {
      for (const [field, value] of [["since", "yesterday"], ["since", "2026-03-01T00:00:00"], ["until", "2026-13-01"], ["until", "1700000000"]] as const) {
        await bad({ [field]: value }, `Invalid querystring field '${field}': must be an ISO 8601 date-time with a zone (2026-01-31T12:00:00Z) or a date (2026-01-31)`);
      }
      await bad({ since: "2026-03-02", until: "2026-03-01" }, "Invalid querystring field 'until': must be later than since");
      await bad({ since: "2026-03-01", until: "2026-03-01" }, "Invalid querystring field 'until': must be later than since");
    });

    it("ids, names, types and unknown parameters", async () => {
      await bad({ app_id: "alpha" }, "Invalid querystring field 'app_id': must be a UUID");
      await bad({ account: "42" }, "Invalid querystring field 'account': must be a UUID");
      await bad({ token_id: "x" }, "Invalid querystring field 'token_id': must be a UUID");
      await bad({ environment: "Development" }, "Invalid querystring field 'environment': an environment name needs app_id (or pass the environment's id)");
      await bad({ actor_type: "robot" }, "Invalid querystring field 'actor_type': must be one of user, service_account, system");
      await bad({ actor_type: "system", account: f.sa.id }, "Invalid querystring field 'actor_type': system has no account: leave out account");
      await bad({ account: f.sa.id, actor_id: f.ownerId }, "Invalid querystring field 'actor_id': must equal account when both are given");
      await bad({ event_type: "Secret.Read" }, "Invalid querystring field 'event_type': must be event types such as secret.read or lease.* (lowercase letters, digits, '_' and '.')");
      await bad({ event_type: " , " }, "Invalid querystring field 'event_type': must name at least one event type");
      await bad({ exclude_event_type: "Audit.Read" }, "Invalid querystring field 'exclude_event_type': must be event types such as secret.read or lease.* (lowercase letters, digits, '_' and '.')");
      await bad({ order: "newest" }, "Invalid querystring field 'order': must be desc or asc");
      await bad({ evnt_type: "secret.read" }, "Invalid querystring: unknown parameter 'evnt_type'");
    });

    it("an environment name the app does not have is a 404", async () => {
      const res = await readLog(f.t, { app_id: f.beta.id, environment: "Production" });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: `Environment 'Production' not found in App ${f.beta.id}` });
    });
  });

  describe("who may read it", () => {
    it("401 without a token or with an unknown one", async () => {
      const none = await f.t.http.get("/v1/audit/events");
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ error: expect.any(String) });
      const unknown = await readLog(f.t, {}, `Bearer ${"0".repeat(64)}`);
      expect(unknown.status).toBe(401);
    });

    it("403 for Developers and service accounts (plain or typed Bearer), before the query is validated", async () => {
      const forbidden = { error: "This action requires an Owner or Admin user token." };
      for (const auth of [`Bearer ${f.dev.token}`, `Bearer User ${f.dev.token}`, `Bearer ${f.sa.token}`, `Bearer ServiceAccount ${f.sa.token}`]) {
        for (const query of [{}, { limit: "0" }] as Query[]) {
          const res = await readLog(f.t, query, auth);
          expect(res.status, auth).toBe(403);
          expect(res.body).toEqual(forbidden);
        }
      }
    });

    it("Owners and Admins, plain or typed Bearer, with and without the trailing slash", async () => {
      for (const auth of [`Bearer ${f.t.ownerToken}`, `Bearer User ${f.admin.token}`, `Bearer ${f.admin.token}`]) {
        const res = await readLog(f.t, { event_type: "owner.bootstrap" }, auth);
        expect(res.status).toBe(200);
        expect(types(res.body.events)).toEqual(["owner.bootstrap"]);
      }
      const slash = await f.t.http.get("/v1/audit/events/?event_type=owner.bootstrap").set("Authorization", `Bearer ${f.t.ownerToken}`);
      expect(slash.status).toBe(200);
      expect(slash.body.events[0].timestamp).toBe(new Date(T0.getTime() - 3_600_000).toISOString());
    });
  });

  // Last: it adds events to the history the other tests count.
  describe("pagination while events are written", () => {
    const all = async (order = "desc") => ((await readLog(f.t, { limit: 1000, order })).body as Page).events.map((e) => e.id);
    let written = 0;
    const saRead = async () => {
      const res = await f.t.http.get(`/v1/secrets/?app_id=${f.beta.id}&env=Development`).set("Authorization", `Bearer ServiceAccount ${f.sa.token}`);
      expect(res.status).toBe(200);
      await f.t.server.container.audit.flush();
      written++;
    };

    it("newest first: events written between pages neither repeat nor shift what follows; newer ones wait for the next walk", async () => {
      // At the instant of the newest events: the new audit rows tie on time with rows not yet read
      // and sort among them (after the lease rows of that instant, then by id), so the walk meets them once.
      f.t.clock.set(f.at.leases);
      const before = await all();
      written = 0;
      const tied = await readAll(f.t, { limit: 2 }, saRead);
      const ids = tied.events.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => before.includes(id))).toEqual(before);
      const extra = tied.events.filter((e) => !before.includes(e.id));
      expect(extra.length).toBeLessThanOrEqual(written);
      expect(extra.every((e) => e.type === "secret.read" && e.timestamp === f.at.leases.toISOString())).toBe(true);
      expect(await all()).toEqual(expect.arrayContaining(ids));

      // Later than every row: new events sort before the first page and never enter this walk.
      f.t.clock.set(new Date(f.at.leases.getTime() + 60_000));
      const before2 = await all();
      written = 0;
      const later = await readAll(f.t, { limit: 3 }, saRead);
      expect(later.events.map((e) => e.id)).toEqual(before2);
      expect(written).toBe(later.pages - 1);
      const after = await all();
      expect(after.slice(written)).toEqual(before2);
      expect(types(((await readLog(f.t, { limit: written })).body as Page).events)).toEqual(Array(written).fill("secret.read"));
    });

    it("oldest first: events written between pages appear at the end, each exactly once", async () => {
      const before = await all("asc");
      const at = new Date(f.at.leases.getTime() + 120_000);
      f.t.clock.set(at);
      written = 0;
      const walk = await readAll(f.t, { limit: 5, order: "asc" }, saRead);
      const ids = walk.events.map((e) => e.id);
      expect(written).toBeGreaterThan(0);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.slice(0, before.length)).toEqual(before);
      expect(ids.length).toBe(before.length + written);
      expect(walk.events.slice(before.length).every((e) => e.type === "secret.read" && e.timestamp === at.toISOString())).toBe(true);
      expect(await all("asc")).toEqual(ids);
    });
  });
});
