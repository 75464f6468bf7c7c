import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { dropRolesWithPrefix, ROOT_PASSWORD } from "../leases/helpers.js";
import { bearer, createApp, createServiceAccountWithToken, createUserWithToken } from "../management/helpers.js";
import { startTestServer, type TestServer, type TestServerOptions } from "../support/server.js";

/** An event as GET /v1/audit/events returns it. */
export interface WireEvent {
  id: string;
  type: string;
  timestamp: string;
  actor: { type: "user" | "service_account" | "system"; id: string | null; token_id: string | null };
  ip: string | null;
  user_agent: string | null;
  app_id: string | null;
  environment_id: string | null;
  secret_id: string | null;
  path: string | null;
  key_digest: string | null;
  version: number | null;
  secrets: { id: string | null; key_digest: string | null; version: number | null; path: string | null }[] | null;
  lease_id: string | null;
  metadata: Record<string, unknown> | null;
}

export interface Page {
  events: WireEvent[];
  next_cursor: string | null;
}

export type Query = Record<string, string | number | string[]>;

/**
 * One page, as the Owner unless `auth` says otherwise; the writer is flushed first. An array
 * repeats its parameter. The log's own reads (audit.read, one per page read) are left out unless
 * the query says otherwise (`exclude_event_type: []` keeps them), so the histories the tests build stay exact.
 */
export async function readLog(t: TestServer, query: Query = {}, auth = `Bearer User ${t.ownerToken}`) {
  await t.server.container.audit.flush();
  const withDefault: Query = query["exclude_event_type"] === undefined ? { ...query, exclude_event_type: "audit.read" } : query;
  const pairs = Object.entries(withDefault).flatMap(([k, v]): [string, string][] => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, String(v)]]));
  const qs = new URLSearchParams(pairs).toString();
  return t.http.get(`/v1/audit/events${qs ? `?${qs}` : ""}`).set("Authorization", auth);
}

/** Every page of a query, following next_cursor; asserts each page is a 200 of at most `limit`. */
export async function readAll(t: TestServer, query: Query = {}, between?: () => Promise<void>): Promise<{ events: WireEvent[]; pages: number }> {
  const events: WireEvent[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await readLog(t, { ...query, ...(cursor ? { cursor } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const page = res.body as Page;
    if (query["limit"] !== undefined) expect(page.events.length).toBeLessThanOrEqual(Number(query["limit"]));
    events.push(...page.events);
    cursor = page.next_cursor;
    pages++;
    if (between && cursor) await between();
  } while (cursor);
  return { events, pages };
}

export const types = (events: WireEvent[]) => events.map((e) => e.type);

export interface AuditFixture {
  t: TestServer;
  ownerId: string;
  ownerTokenId: string;
  alpha: { id: string; dev: string; prod: string };
  beta: { id: string; dev: string };
  sa: { id: string; token: string; tokenId: string };
  dev: { id: string; token: string };
  admin: { id: string; token: string };
  definitionId: string;
  leaseIds: string[];
  secretValues: string[];
  /** The instant each step ran at (the server's ManualClock). */
  at: Record<"setup" | "write" | "read" | "leases", Date>;
  prefix: string;
  close(): Promise<void>;
}

export const T0 = new Date("2026-03-01T00:00:00.000Z");

/**
 * A server with a history made through real HTTP, each step at its own instant: apps, accounts,
 * grants and tokens (management events), secrets written and read by a service account, and two
 * leases (created, renewed, revoked; force-revoked by the Owner).
 */
export async function auditFixture(opts: TestServerOptions = {}): Promise<AuditFixture> {
  // Bootstrap (at start-up) an hour before the rest.
  const clock = opts.clock ?? new ManualClock(new Date(T0.getTime() - 3_600_000));
  const t = await startTestServer({ ...opts, clock, env: { LEASEHOLD_REAPER_SCHEDULE: "off", ...opts.env } });
  const owner = bearer(t.ownerToken);
  const ownerRow = (await t.db.query<{ id: string; token_id: string }>(
    `SELECT u.id, k.id AS token_id FROM users u JOIN api_tokens k ON k.user_id = u.id WHERE u.role = 'OWNER'`,
  ))[0]!;
  const at = { setup: T0, write: new Date(T0.getTime() + 60_000), read: new Date(T0.getTime() + 120_000), leases: new Date(T0.getTime() + 180_000) };

  t.clock.set(at.setup);
  const a = await createApp(t, "alpha", ["Development", "Production"]);
  const b = await createApp(t, "beta", ["Development"]);
  const alpha = { id: a.id, dev: a.environments[0]!.id, prod: a.environments[1]!.id };
  const beta = { id: b.id, dev: b.environments[0]!.id };
  const saAccount = await createServiceAccountWithToken(t, "ci");
  for (const appId of [alpha.id, beta.id]) {
    const grant = await t.http.post(`/v1/service-accounts/${saAccount.id}/access/`).set(owner).send({ app_id: appId, environments: ["Development"] });
    expect(grant.status).toBe(200);
  }
  const tokenRow = (await t.db.query<{ id: string }>(`SELECT id FROM api_tokens WHERE service_account_id = $1`, [saAccount.id]))[0]!;
  const sa = { ...saAccount, tokenId: tokenRow.id };
  const dev = await createUserWithToken(t, "dev@example.test", "Developer");
  const admin = await createUserWithToken(t, "admin@example.test", "Admin");

  const saAuth = { Authorization: `Bearer ServiceAccount ${sa.token}`, "User-Agent": "audit-fixture/1.0" };
  const secretValues = [`value-${randomBytes(8).toString("hex")}`, `value-${randomBytes(8).toString("hex")}`, `value-${randomBytes(8).toString("hex")}`];
  t.clock.set(at.write);
  const w1 = await t.http.post(`/v1/secrets/?app_id=${alpha.id}&env=Development`).set(saAuth)
    .send({ secrets: [{ key: "DB_URL", value: secretValues[0] }, { key: "API_KEY", value: secretValues[1], path: "/api" }] });
  expect(w1.status).toBe(200);
  const w2 = await t.http.post(`/v1/secrets/?app_id=${beta.id}&env=Development`).set(saAuth).send({ secrets: [{ key: "TOKEN", value: secretValues[2] }] });
  expect(w2.status).toBe(200);

  t.clock.set(at.read);
  for (const appId of [alpha.id, beta.id]) {
    const read = await t.http.get(`/v1/secrets/?app_id=${appId}&env=Development`).set(saAuth);
    expect(read.status).toBe(200);
  }

  t.clock.set(at.leases);
  const prefix = `a${randomBytes(4).toString("hex")}`;
  await t.db.query("CREATE TABLE IF NOT EXISTS reports (id int primary key, body text)");
  const ownerTyped = { Authorization: `Bearer User ${t.ownerToken}` };
  const def = await t.http.post(`/v1/secrets/dynamic/?app_id=${alpha.id}&env=Development`).set(ownerTyped).send({
    name: "reader",
    path: "/db",
    provider: "postgresql",
    default_ttl: 3600,
    max_ttl: 86400,
    config: {
      connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${t.db.name}`,
      username: "postgres",
      password: ROOT_PASSWORD,
      creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`],
      username_prefix: prefix,
    },
  });
  expect(def.status, JSON.stringify(def.body)).toBe(201);
  const q = `app_id=${alpha.id}&env=Development`;
  const leaseIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const leased = await t.http.get(`/v1/secrets/dynamic/?${q}&id=${def.body.id}&lease=true`).set(saAuth);
    expect(leased.status, JSON.stringify(leased.body)).toBe(200);
    leaseIds.push(leased.body[0].lease.id);
  }
  const renew = await t.http.put(`/v1/secrets/dynamic/leases/?${q}`).set(saAuth).send({ lease_id: leaseIds[0], ttl: 600 });
  expect(renew.status).toBe(200);
  const revoke = await t.http.delete(`/v1/secrets/dynamic/leases/?${q}`).set(saAuth).send({ lease_id: leaseIds[0] });
  expect(revoke.status, JSON.stringify(revoke.body)).toBe(200);
  const force = await t.http.delete(`/v1/secrets/dynamic/leases/?${q}&force=true`).set(ownerTyped).send({ lease_id: leaseIds[1] });
  expect(force.status, JSON.stringify(force.body)).toBe(200);
  await t.server.container.audit.flush();

  return {
    t,
    ownerId: ownerRow.id,
    ownerTokenId: ownerRow.token_id,
    alpha,
    beta,
    sa,
    dev,
    admin,
    definitionId: def.body.id,
    leaseIds,
    secretValues,
    at,
    prefix,
    async close() {
      await t.close();
      await dropRolesWithPrefix(prefix);
    },
  };
}
