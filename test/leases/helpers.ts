import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Principal } from "../../src/auth/principal.js";
import type { Container } from "../../src/container.js";
import { AppError } from "../../src/errors.js";
import type { Role } from "../../src/generated/prisma/enums.js";
import { createPostgresProvider } from "../../src/providers/postgresql.js";
import { ProviderError, type Provider } from "../../src/providers/provider.js";
import { ADMIN_URL } from "../support/database.js";
import { startTestServer, type TestServer, type TestServerOptions } from "../support/server.js";

export const ROOT_PASSWORD = "root-Secret-Pw-4-tests-only";
export const META = { ipAddress: "203.0.113.7", userAgent: "lease-tests/1.0" };

export interface LeaseHarness {
  t: TestServer;
  c: Container;
  owner: Principal;
  appId: string;
  envId: string;
  /** username_prefix of this harness's definitions: every role it makes starts with `${prefix}_`. */
  prefix: string;
  close(): Promise<void>;
}

/** A real server (reaper schedule off unless overridden: tests call tick()), an app, the Owner principal. */
export async function startLeaseHarness(opts: TestServerOptions = {}): Promise<LeaseHarness> {
  const t = await startTestServer({ ...opts, env: { LEASEHOLD_REAPER_SCHEDULE: "off", ...opts.env } });
  const c = t.server.container;
  const owner = await c.authenticator.authenticate({ type: undefined, token: t.ownerToken });
  const app = await c.appService.createApp(`app-${randomBytes(3).toString("hex")}`, ["Development", "Production"]);
  const prefix = `t${randomBytes(4).toString("hex")}`;
  return {
    t,
    c,
    owner,
    appId: app.id,
    envId: app.environments[0]!.id,
    prefix,
    async close() {
      await t.close();
      await dropRolesWithPrefix(prefix);
    },
  };
}

/**
 * A second server instance on the harness's database, clock and master key (reaper schedule off
 * unless `env` says otherwise): two instances sharing one database.
 */
export function startSecondInstance(h: LeaseHarness, providers: Provider[], env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({
    db: h.t.db,
    clock: h.t.clock,
    masterKey: Buffer.from(h.t.config.LEASEHOLD_MASTER_KEY!).toString("base64"),
    providers,
    env: { LEASEHOLD_REAPER_SCHEDULE: "off", ...env },
  });
}

export function pgConfig(h: LeaseHarness, extra: Record<string, unknown> = {}) {
  return {
    connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${h.t.db.name}`,
    username: "postgres",
    password: ROOT_PASSWORD,
    creation_statements: [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      `GRANT SELECT ON reports TO "{{name}}"`,
    ],
    username_prefix: h.prefix,
    ...extra,
  };
}

/** A PostgreSQL definition targeting the test database itself (table `reports` is created for grants). */
export async function createPgDefinition(
  h: LeaseHarness,
  o: { name?: string; provider?: string; defaultTtl?: number; maxTtl?: number; path?: string; config?: Record<string, unknown> } = {},
) {
  await h.t.db.query("CREATE TABLE IF NOT EXISTS reports (id int primary key, body text)");
  return h.c.dynamicSecrets.create(h.owner, {
    environmentId: h.envId,
    path: o.path ?? "/",
    name: o.name ?? "reader",
    provider: o.provider ?? "postgresql",
    config: pgConfig(h, o.config),
    defaultTtl: o.defaultTtl ?? 3600,
    maxTtl: o.maxTtl ?? 7200,
  });
}

export async function rolesWithPrefix(h: Pick<LeaseHarness, "t" | "prefix">): Promise<string[]> {
  const rows = await h.t.db.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY 1", [`${h.prefix}_`]);
  return rows.map((r) => r.rolname);
}

/** Cleanup after a test file: roles are cluster-wide and outlive the test database. */
export async function dropRolesWithPrefix(prefix: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", [`${prefix}_`]);
    for (const r of rows) await c.query(`DROP ROLE IF EXISTS "${r.rolname}"`).catch(() => undefined);
  } finally {
    await c.end();
  }
}

/** A user with `role` (and a token), as a Principal the services accept. */
export async function createUserPrincipal(h: LeaseHarness, role: Role): Promise<Principal> {
  const user = await h.c.identityService.createUser({ email: `${randomBytes(4).toString("hex")}@example.test`, role });
  const token = await h.c.identityService.issueToken({ kind: "USER", id: user.id }, "t");
  return h.c.authenticator.authenticate({ type: undefined, token: token.token });
}

export interface WrappedProvider {
  provider: Provider;
  /** provider.revoke calls per upstream identity. */
  revokeCalls: Map<string, number>;
  totalRevokeCalls(): number;
  /** The next `n` revokes (or all, until reset) fail; the message quotes the root password to test scrubbing. */
  failRevokes(n: number | "always", opts?: { retryable?: boolean }): void;
  /** The next `n` creates fail: after making the role (a provider breaking its undo contract) unless `clean`. */
  failCreates(n: number, opts?: { retryable?: boolean; clean?: boolean }): void;
  createCalls: number;
  /** Milliseconds each create waits before calling the real provider. */
  createDelayMs: number;
}

/** The real PostgreSQL provider under another id, with switches to fail, slow down and count calls. */
export function wrapPostgres(id: string): WrappedProvider {
  const base = createPostgresProvider() as unknown as Provider;
  let revokeFailures: number | "always" = 0;
  let retryable = true;
  let createFailures = 0;
  let createFailure = { retryable: false, clean: false };
  const revokeCalls = new Map<string, number>();
  const w: WrappedProvider = {
    revokeCalls,
    totalRevokeCalls: () => [...revokeCalls.values()].reduce((a, b) => a + b, 0),
    failRevokes(n, opts) {
      revokeFailures = n;
      retryable = opts?.retryable ?? true;
    },
    failCreates(n, opts) {
      createFailures = n;
      createFailure = { retryable: opts?.retryable ?? false, clean: opts?.clean ?? false };
    },
    createCalls: 0,
    createDelayMs: 0,
    provider: {
      ...base,
      id,
      async create(config, planned, ctx) {
        w.createCalls++;
        if (w.createDelayMs > 0) await new Promise((r) => setTimeout(r, w.createDelayMs));
        if (createFailures > 0) {
          createFailures--;
          // Half-done: the role exists when the provider gives up (the lease layer must remove it).
          if (!createFailure.clean) await base.create(config, planned, ctx);
          const pw = (config as { password: string }).password;
          throw new ProviderError(`simulated failure; root password was ${pw}`, createFailure.retryable, "XX000");
        }
        return base.create(config, planned, ctx);
      },
      async revoke(config, revocation, ctx) {
        revokeCalls.set(revocation.identity, (revokeCalls.get(revocation.identity) ?? 0) + 1);
        if (revokeFailures === "always" || revokeFailures > 0) {
          if (revokeFailures !== "always") revokeFailures--;
          const pw = (config as { password: string }).password;
          throw new ProviderError(`could not connect to postgresql://postgres:${pw}@db.internal/app`, retryable, "08006");
        }
        return base.revoke(config, revocation, ctx);
      },
    },
  };
  return w;
}

/** The lease row as stored, for asserting side effects. */
export async function leaseRow(h: LeaseHarness, id: string) {
  const rows = await h.t.db.query<{
    status: string;
    ttl_seconds: number;
    expires_at: Date;
    renewed_at: Date | null;
    revoked_at: Date | null;
    revoke_reason: string | null;
    attempts: number;
    next_attempt_at: Date | null;
    claimed_by: string | null;
    claimed_until: Date | null;
    last_error: string | null;
    state_cipher: Buffer;
    upstream_identity: string;
  }>("SELECT * FROM leases WHERE id = $1", [id]);
  return rows[0]!;
}

export async function leaseEvents(h: LeaseHarness, id: string) {
  return h.t.db.query<{ event_type: string; user_id: string | null; ip_address: string | null; user_agent: string | null; metadata: Record<string, unknown> }>(
    "SELECT event_type, user_id, ip_address, user_agent, metadata FROM lease_events WHERE lease_id = $1 ORDER BY id",
    [id],
  );
}

/** Advances the clock past any backoff and ticks until no lease waits for revocation. */
export async function drain(h: LeaseHarness, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const [{ n }] = (await h.t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM leases WHERE status IN ('REVOKING', 'CREATING') OR (status = 'ACTIVE' AND expires_at <= $1)",
      [h.t.clock.now()],
    )) as [{ n: number }];
    if (n === 0) return;
    h.t.clock.advance(10_000);
    await h.c.reaper.tick();
  }
  throw new Error("leases still pending after draining");
}

/** The status and message an AppError rejection carries (anything else is rethrown). */
export async function rejection(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return { status: e.statusCode, message: e.message };
    throw e;
  }
  throw new Error("expected a rejection");
}
