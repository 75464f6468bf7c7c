import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Container } from "../../src/container.js";
import { createPostgresProvider } from "../../src/providers/postgresql.js";
import { scramMatches } from "../../src/providers/postgresql-scram.js";
import { ProviderError, type Provider } from "../../src/providers/provider.js";
import type { PostgresConfig } from "../../src/providers/postgresql-config.js";
import { ADMIN_URL, createTestDatabase, type TestDatabase } from "../support/database.js";
import { startTestServer, type TestServer, type TestServerOptions } from "../support/server.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface Reply {
  status: number;
  body: any;
  text: string;
}

/**
 * The target of the walkthrough: a scratch database owned by a real root role that has
 * CREATEROLE (not superuser) and a password, with a `tickets` table the root owns.
 */
export interface Target {
  db: TestDatabase;
  root: string;
  rootPassword: string;
  /** postgresql://{{username}}:{{password}}@127.0.0.1:5432/<db>, as engines take it. */
  connectionUrl: string;
  /** Drops the database, the root role and `roles` (the leases' upstream identities). */
  drop(roles?: string[]): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTarget(): Promise<Target> {
  const db = await createTestDatabase();
  const root = `lhroot_${randomBytes(4).toString("hex")}`;
  const rootPassword = `Root-${randomBytes(12).toString("hex")}`;
  await admin(async (c) => {
    await c.query(`CREATE ROLE "${root}" WITH LOGIN CREATEROLE PASSWORD '${rootPassword}'`);
    await c.query(`ALTER DATABASE "${db.name}" OWNER TO "${root}"`);
  });
  await asUser(db.name, root, rootPassword, async (c) => {
    await c.query("CREATE TABLE tickets (id int PRIMARY KEY, subject text)");
    await c.query("INSERT INTO tickets VALUES (1, 'printer on fire'), (2, 'vpn down')");
  });
  return {
    db,
    root,
    rootPassword,
    connectionUrl: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${db.name}`,
    async drop(roles = []) {
      await db.drop();
      await admin(async (c) => {
        for (const r of roles) await c.query(`DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
        await c.query(`DROP ROLE IF EXISTS "${root}"`).catch(() => undefined);
      });
    },
  };
}

/** Runs `fn` logged in as `user` (the local server trusts every login: see passwordOf for the password). */
export async function asUser<T>(database: string, user: string, password: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: "127.0.0.1", port: 5432, database, user, password });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Would `password` log `user` in under scram-sha-256? The local PostgreSQL trusts every local
 * login, so this is checked the way the server would: against the stored SCRAM verifier.
 */
export async function passwordWorks(user: string, password: string): Promise<boolean> {
  const rows = await admin((c) => c.query<{ rolpassword: string | null }>("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [user]));
  const verifier = rows.rows[0]?.rolpassword;
  return !!verifier && scramMatches(verifier, password);
}

export async function roleExists(name: string): Promise<boolean> {
  return admin(async (c) => ((await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name])).rowCount ?? 0) > 0);
}

/**
 * The real PostgreSQL provider behind a password check before every call, as password
 * authentication would do it (the local server trusts every login): a wrong root password fails
 * with 28P01 like a real login.
 */
export type RotateFault = "before-change" | "after-change" | null;

export function passwordCheckingPostgres(opts: { rotateFault?: () => RotateFault } = {}): Provider<PostgresConfig> {
  const real = createPostgresProvider();
  async function login(config: PostgresConfig): Promise<void> {
    if (!(await passwordWorks(config.username, config.password))) {
      throw new ProviderError(`PostgreSQL connection failed: password authentication failed for user "${config.username}" (28P01)`, false, "28P01");
    }
  }
  return {
    ...real,
    async testConnection(config) {
      await login(config);
      return real.testConnection(config);
    },
    async create(config, planned, ctx) {
      await login(config);
      return real.create(config, planned, ctx);
    },
    async revoke(config, revocation, ctx) {
      await login(config);
      return real.revoke(config, revocation, ctx);
    },
    async renew(config, revocation, expiresAt) {
      await login(config);
      return real.renew!(config, revocation, expiresAt);
    },
    async rotateRoot(config, newPassword) {
      await login(config);
      const fault = opts.rotateFault?.() ?? null;
      if (fault === "before-change") throw new ProviderError("PostgreSQL root password change failed: permission denied (42501)", false, "42501");
      await real.rotateRoot!(config, newPassword);
      // As if the connection dropped after the server committed the change, before it answered.
      if (fault === "after-change") throw new ProviderError("PostgreSQL root password change failed: Connection terminated unexpectedly", true);
    },
  };
}

export interface EngineFixture {
  t: TestServer;
  c: Container;
  target: Target;
  /** ADMIN_TOKEN of the guide: the bootstrap Owner's token, sent as plain `Bearer <token>`. */
  admin: string;
  /** Every response body seen (to grep for secrets). */
  bodies: string[];
  call(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, token: string, body?: unknown): Promise<Reply>;
  /** A service account token (plain Bearer) and its id. */
  serviceAccount(): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export async function engineFixture(opts: TestServerOptions & { rotateFault?: () => RotateFault; target?: Target } = {}): Promise<EngineFixture> {
  const target = opts.target ?? (await createTarget());
  const provider = passwordCheckingPostgres({ ...(opts.rotateFault ? { rotateFault: opts.rotateFault } : {}) });
  const t = await startTestServer({ ...opts, env: { LEASEHOLD_REAPER_SCHEDULE: "off", ...opts.env }, providers: [provider, ...(opts.providers ?? [])] });
  const bodies: string[] = [];
  return {
    t,
    c: t.server.container,
    target,
    admin: t.ownerToken,
    bodies,
    async call(method, path, token, body) {
      let r = t.http[method.toLowerCase() as "get"](path).set("Authorization", `Bearer ${token}`);
      if (body !== undefined) r = r.set("Content-Type", "application/json").send(JSON.stringify(body));
      const res = await r;
      bodies.push(res.text);
      return { status: res.status, body: res.body, text: res.text };
    },
    async serviceAccount() {
      const sa = await t.server.container.identityService.createServiceAccount(`reporting-${randomBytes(3).toString("hex")}`);
      const tok = await t.server.container.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: sa.id }, "t");
      return { id: sa.id, token: tok.token };
    },
    async close() {
      const leased = await t.db.query<{ upstream_identity: string }>("SELECT upstream_identity FROM leases").catch(() => []);
      await t.close();
      await target.drop(leased.map((r) => r.upstream_identity));
    },
  };
}

/** The guide's step 3 role, with `postgres` (the guide's admin role) replaced by this target's root. */
export function readonlyRole(root: string) {
  return {
    name: "readonly",
    creation_statements: [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      `GRANT USAGE ON SCHEMA public TO "{{name}}"`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}"`,
    ],
    revocation_statements: [
      `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{{name}}"`,
      `REASSIGN OWNED BY "{{name}}" TO ${root}`,
      `DROP OWNED BY "{{name}}"`,
      `DROP ROLE IF EXISTS "{{name}}"`,
    ],
    default_ttl: "1h",
    max_ttl: "8h",
  };
}

/** The guide's step 2 engine, pointed at `target` with inline root credentials. */
export function supportDb(target: Target, extra: Record<string, unknown> = {}) {
  return {
    name: "support-db",
    type: "database",
    config: {
      plugin: "postgresql",
      connection_url: target.connectionUrl,
      root_credentials: { username: target.root, password: target.rootPassword },
    },
    default_ttl: "1h",
    max_ttl: "24h",
    ...extra,
  };
}
