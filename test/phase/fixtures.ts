import { expect } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

export interface Account {
  id: string;
  token: string;
  /** The Authorization header value. */
  auth: string;
}

export interface PhaseFixture {
  t: TestServer;
  appId: string;
  /** Environment ids by name. */
  envs: Record<string, string>;
  /** A service account with access to Development only. */
  sa: Account;
  /** A Developer user with access to Development only. */
  user: Account;
  /** The bootstrap Owner. */
  owner: Account;
  /** URL of the secrets endpoint for an environment of the fixture app, with extra query. */
  url(env?: string, extra?: Record<string, string>, prefix?: string): string;
  close(): Promise<void>;
}

/** A server with one app (Development, Staging, Production), a service account and a user. */
export async function phaseFixture(appName = "app"): Promise<PhaseFixture> {
  const t = await startTestServer();
  const c = t.server.container;
  const app = await c.appService.createApp(appName, ["Development", "Staging", "Production"]);
  const envs = Object.fromEntries(app.environments.map((e) => [e.name, e.id]));

  const sa = await c.identityService.createServiceAccount("ci");
  await c.identityService.grantAccess({ kind: "SERVICE_ACCOUNT", id: sa.id }, app.id, ["Development"]);
  const saToken = await c.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: sa.id }, "ci");

  const user = await c.identityService.createUser({ email: "dev@example.com", role: "DEVELOPER" });
  await c.identityService.grantAccess({ kind: "USER", id: user.id }, app.id, ["Development"]);
  const userToken = await c.identityService.issueToken({ kind: "USER", id: user.id }, "pat");

  const ownerRow = (await t.db.query<{ id: string }>(`SELECT id FROM users WHERE role = 'OWNER'`))[0]!;
  return {
    t,
    appId: app.id,
    envs,
    sa: { id: sa.id, token: saToken.token, auth: `Bearer ServiceAccount ${saToken.token}` },
    user: { id: user.id, token: userToken.token, auth: `Bearer User ${userToken.token}` },
    owner: { id: ownerRow.id, token: t.ownerToken, auth: `Bearer User ${t.ownerToken}` },
    url(env = "Development", extra = {}, prefix = "") {
      const q = new URLSearchParams({ app_id: app.id, env, ...extra });
      return `${prefix}/v1/secrets/?${q.toString()}`;
    },
    close: () => t.close(),
  };
}

export type WireSecret = Record<string, unknown> & { id: string; key: string; value: string; path: string; version: number; tags: string[] };

/** The four methods for one caller and environment, through real HTTP. */
export function secretsClient(f: PhaseFixture, auth: string, env = "Development") {
  return {
    post: (secrets: unknown[]) => f.t.http.post(f.url(env)).set("Authorization", auth).send({ secrets }),
    put: (secrets: unknown[]) => f.t.http.put(f.url(env)).set("Authorization", auth).send({ secrets }),
    del: (ids: string[]) => f.t.http.delete(f.url(env)).set("Authorization", auth).send({ secrets: ids }),
    get: (extra: Record<string, string> = {}) => f.t.http.get(f.url(env, extra)).set("Authorization", auth),
  };
}

/** GET as `client`, expecting 200: the listed secrets. */
export async function listed(client: ReturnType<typeof secretsClient>, extra: Record<string, string> = {}): Promise<WireSecret[]> {
  const res = await client.get(extra);
  expect(res.status).toBe(200);
  return res.body;
}

/** POST as `client`, expecting 200: the created secrets. */
export async function createdBy(client: ReturnType<typeof secretsClient>, secrets: unknown[]): Promise<WireSecret[]> {
  const res = await client.post(secrets);
  expect(res.status).toBe(200);
  return res.body;
}

/** Empties the fixture's secrets, folders and tags between scenarios. */
export const wipeSecrets = (f: PhaseFixture) => f.t.db.query(`TRUNCATE secrets, folders, tags CASCADE`);
