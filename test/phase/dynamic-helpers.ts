import { randomBytes } from "node:crypto";
import type { Container } from "../../src/container.js";
import type { Role } from "../../src/generated/prisma/enums.js";
import type { Provider } from "../../src/providers/provider.js";
import { dropRolesWithPrefix, ROOT_PASSWORD } from "../leases/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";
import type { Account } from "./fixtures.js";

export { ROOT_PASSWORD };

export type Method = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Record<string, string>;
}

export interface DynamicFixture {
  t: TestServer;
  c: Container;
  appId: string;
  envs: Record<string, string>;
  owner: Account;
  admin: Account;
  /** Developers with access to Development only. */
  dev: Account;
  dev2: Account;
  /** A service account with access to Development only. */
  sa: Account;
  /** Role-name prefix of every definition made with pgConfig(): roles start with `${prefix}_`. */
  prefix: string;
  /** Every response body this fixture's call() saw (to grep for secrets). */
  bodies: string[];
  /** `${base}/v1/secrets/dynamic/${rest}?app_id&env&extra` (base defaults to /service/public, as the Go SDK). */
  url(rest?: string, extra?: Record<string, string> | null, env?: string, base?: string): string;
  call(method: Method, url: string, auth: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  pgConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  /** POST a PostgreSQL definition as the Owner; returns the wire body. */
  createPg(o?: { name?: string; path?: string; provider?: string; default_ttl?: number; max_ttl?: number; env?: string; key_map?: unknown }): Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  rolesWithPrefix(): Promise<string[]>;
  close(): Promise<void>;
}

async function account(c: Container, appId: string, kind: "user" | "sa", role: Role = "DEVELOPER", access = ["Development"]): Promise<Account> {
  const tag = randomBytes(3).toString("hex");
  if (kind === "sa") {
    const sa = await c.identityService.createServiceAccount(`bot-${tag}`);
    await c.identityService.grantAccess({ kind: "SERVICE_ACCOUNT", id: sa.id }, appId, access);
    const tok = await c.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: sa.id }, "t");
    return { id: sa.id, token: tok.token, auth: `Bearer ServiceAccount ${tok.token}` };
  }
  const user = await c.identityService.createUser({ email: `${tag}@example.test`, username: `user-${tag}`, fullName: `User ${tag}`, role });
  if (access.length) await c.identityService.grantAccess({ kind: "USER", id: user.id }, appId, access);
  const tok = await c.identityService.issueToken({ kind: "USER", id: user.id }, "t");
  return { id: user.id, token: tok.token, auth: `Bearer User ${tok.token}` };
}

/** A server (reaper off: tests tick it), an app with Development and Production, and accounts. */
export async function dynamicFixture(opts: { providers?: Provider[] } = {}): Promise<DynamicFixture> {
  const t = await startTestServer({ env: { LEASEHOLD_REAPER_SCHEDULE: "off" }, ...(opts.providers ? { providers: opts.providers } : {}) });
  const c = t.server.container;
  const app = await c.appService.createApp(`app-${randomBytes(3).toString("hex")}`, ["Development", "Production"]);
  const envs = Object.fromEntries(app.environments.map((e) => [e.name, e.id]));
  const ownerRow = (await t.db.query<{ id: string }>(`SELECT id FROM users WHERE role = 'OWNER'`))[0]!;
  await t.db.query("CREATE TABLE IF NOT EXISTS reports (id int primary key, body text)");
  const prefix = `d${randomBytes(4).toString("hex")}`;
  const bodies: string[] = [];

  const f: DynamicFixture = {
    t,
    c,
    appId: app.id,
    envs,
    owner: { id: ownerRow.id, token: t.ownerToken, auth: `Bearer User ${t.ownerToken}` },
    admin: await account(c, app.id, "user", "ADMIN", []),
    dev: await account(c, app.id, "user"),
    dev2: await account(c, app.id, "user"),
    sa: await account(c, app.id, "sa"),
    prefix,
    bodies,
    url(rest = "", extra = {}, env = "Development", base = "/service/public") {
      const q = new URLSearchParams(extra === null ? {} : { app_id: app.id, env, ...extra });
      const qs = q.toString();
      return `${base}/v1/secrets/dynamic/${rest}${qs ? `?${qs}` : ""}`;
    },
    async call(method, url, auth, body, headers = {}) {
      let r = t.http[method.toLowerCase() as "get"](url).set("Authorization", auth).set(headers);
      if (body !== undefined) r = r.set("Content-Type", "application/json").send(typeof body === "string" ? body : JSON.stringify(body));
      const res = await r;
      bodies.push(res.text);
      return { status: res.status, body: res.body, text: res.text, headers: res.headers as Record<string, string> };
    },
    pgConfig(extra = {}) {
      return {
        connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${t.db.name}`,
        username: "postgres",
        password: ROOT_PASSWORD,
        creation_statements: [
          `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
          `GRANT SELECT ON reports TO "{{name}}";`,
        ],
        username_prefix: prefix,
        ...extra,
      };
    },
    async createPg(o = {}) {
      const res = await f.call("POST", f.url("", {}, o.env), f.owner.auth, {
        name: o.name ?? "reader",
        path: o.path ?? "/",
        provider: o.provider ?? "postgresql",
        config: f.pgConfig(),
        default_ttl: o.default_ttl ?? 3600,
        max_ttl: o.max_ttl ?? 7200,
        ...(o.key_map ? { key_map: o.key_map } : {}),
      });
      if (res.status !== 201) throw new Error(`createPg: ${res.status} ${res.text}`);
      return res.body;
    },
    async rolesWithPrefix() {
      const rows = await t.db.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY 1", [`${prefix}_`]);
      return rows.map((r) => r.rolname);
    },
    async close() {
      await t.close();
      await dropRolesWithPrefix(prefix);
    },
  };
  return f;
}

/** Phase's timestamp form: ISO-8601 UTC with 6 fractional digits and Z. */
export const PHASE_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** Advances past any backoff and runs the reaper until nothing waits for revocation. */
export async function drainReaper(f: DynamicFixture, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const [row] = await f.t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM leases WHERE status IN ('REVOKING', 'CREATING') OR (status = 'ACTIVE' AND expires_at <= $1)",
      [f.t.clock.now()],
    );
    if (row!.n === 0) return;
    f.t.clock.advance(10_000);
    await f.c.reaper.tick();
  }
  throw new Error("leases still pending after draining");
}
