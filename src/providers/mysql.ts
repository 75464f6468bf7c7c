import { createHash } from "node:crypto";
import mysql from "mysql2/promise";
import { DEFAULT_MYSQL_REVOCATION, MYSQL_MAX_NAME, mysqlConfigSchema, mysqlTarget, type MysqlConfig } from "./mysql-config.js";
import { classifyMysqlError } from "./mysql-errors.js";
import { nameSlug } from "./names.js";
import { DATABASE_CONNECTION, ProviderError, type CreatedCredential, type PlannedCredential, type Provider, type RevocationData } from "./provider.js";
import { LOWER_ALNUM, randomString, URL_SAFE, type RandomSource } from "./random.js";
import { toProviderError } from "./scrub.js";
import { renderTemplate } from "./templates.js";

export type { MysqlConfig } from "./mysql-config.js";

export interface MysqlProviderOptions {
  random?: RandomSource;
  /** Connections per root configuration. */
  poolMax?: number;
  /** lock_wait_timeout and innodb_lock_wait_timeout of the root sessions (MySQL's default is a year). */
  lockWaitSeconds?: number;
}

export interface MysqlProvider extends Provider<MysqlConfig> {
  /** The pool used for a configuration (one per distinct root connection). */
  poolFor(config: MysqlConfig): mysql.Pool;
}

type Conn = mysql.PoolConnection;

const NAME_RE = new RegExp(`^[a-z][a-z0-9_]{0,${MYSQL_MAX_NAME - 1}}$`);
const PASSWORD_RE = /^[A-Za-z0-9_-]{16,128}$/;
const RANDOM_LENGTH = 10;

function checkName(identity: string): string {
  if (!NAME_RE.test(identity)) throw new ProviderError("Invalid MySQL user name.", false, "invalid_identity");
  return identity;
}

/** MySQL DATETIME literal in UTC: 2030-01-01 10:00:00. */
export function mysqlDatetime(d: Date): string {
  return d.toISOString().slice(0, 19).replace("T", " ");
}

/**
 * Dynamic MySQL/MariaDB users. MySQL has no password expiry we could move per lease, so the user
 * lives until revoked (capabilities: not renewable upstream, revocation required). Statements
 * run one by one in order (DDL commits implicitly, so there is no transaction); if one fails,
 * every account with the generated name is dropped again before the error is thrown. Revocation
 * runs the revocation statements (default DROP USER IF EXISTS '{{name}}'@'%') when the user still
 * exists, then kills the user's open sessions (DROP USER leaves them running).
 */
export function createMysqlProvider(opts: MysqlProviderOptions = {}): MysqlProvider {
  const pools = new Map<string, mysql.Pool>();
  const lockWait = opts.lockWaitSeconds ?? 10;

  function poolFor(config: MysqlConfig): mysql.Pool {
    const t = mysqlTarget(config.connection_url);
    const key = createHash("sha256").update(JSON.stringify([t, config.username, config.password])).digest("hex");
    let pool = pools.get(key);
    if (!pool) {
      pool = mysql.createPool({
        host: t.host,
        port: t.port,
        ...(t.database ? { database: t.database } : {}),
        ...(t.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
        user: config.username,
        password: config.password,
        connectionLimit: opts.poolMax ?? 3,
        maxIdle: 1,
        idleTimeout: 30_000,
        connectTimeout: 10_000,
        enableKeepAlive: true,
      });
      pools.set(key, pool);
    }
    return pool;
  }

  /** Runs `fn` on a pooled root connection; every failure leaves as a scrubbed ProviderError. */
  async function withRoot<T>(config: MysqlConfig, what: string, secrets: string[], fn: (c: Conn) => Promise<T>): Promise<T> {
    let conn: Conn | undefined;
    try {
      conn = await poolFor(config).getConnection();
      await conn.query("SET SESSION lock_wait_timeout = ?, innodb_lock_wait_timeout = ?", [lockWait, lockWait]);
      const result = await fn(conn);
      conn.release();
      return result;
    } catch (err) {
      conn?.destroy(); // never hand a connection in an unknown state back to the pool
      const code = (err as { code?: unknown })?.code;
      throw toProviderError(err, {
        prefix: `MySQL ${what} failed`,
        secrets: [...secrets, config.password],
        retryable: classifyMysqlError(err) === "retryable",
        ...(typeof code === "string" ? { code } : {}),
      });
    }
  }

  /** Hosts of every account with this user name (mysql.user; a view in MariaDB 10.4+). */
  async function hostsOf(c: Conn, name: string): Promise<string[]> {
    const [rows] = await c.query<mysql.RowDataPacket[]>("SELECT Host AS host FROM mysql.user WHERE User = ?", [name]);
    return rows.map((r) => String(r["host"]));
  }

  async function run(c: Conn, statements: readonly string[], vars: Record<string, string>): Promise<void> {
    for (const s of statements) await c.query(renderTemplate(s, vars));
  }

  async function killSessions(c: Conn, name: string): Promise<void> {
    const [rows] = await c.query<mysql.RowDataPacket[]>(
      "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()",
      [name],
    );
    for (const r of rows) {
      const id = Number(r["id"]);
      if (!Number.isSafeInteger(id)) continue;
      await c.query(`KILL CONNECTION ${id}`).catch((err: { errno?: number }) => {
        if (err.errno !== 1094) throw err; // ER_NO_SUCH_THREAD: it ended meanwhile
      });
    }
  }

  /** After a failed creation: the revocation statements, then any account left with the name (ours: generated). */
  async function undoCreate(c: Conn, config: MysqlConfig, name: string): Promise<void> {
    await run(c, config.revocation_statements ?? DEFAULT_MYSQL_REVOCATION, { name }).catch(() => undefined);
    for (const host of await hostsOf(c, name).catch(() => [])) {
      await c.query("DROP USER IF EXISTS ?@?", [name, host]).catch(() => undefined);
    }
  }

  return {
    id: "mysql",
    configSchema: mysqlConfigSchema,
    secretFields: ["password"],
    connection: DATABASE_CONNECTION,
    capabilities: { renewableUpstream: false, revocationRequired: true },
    defaultKeyMap: [
      { id: "username", keyName: "DB_USERNAME", masked: false },
      { id: "password", keyName: "DB_PASSWORD", masked: true },
      { id: "connection_url", keyName: "DB_CONNECTION_URL", masked: true },
    ],
    poolFor,

    async testConnection(config) {
      // Connects, and checks the account can read mysql.user (revocation looks users up there).
      await withRoot(config, "connection test", [], (c) => c.query("SELECT 1 FROM mysql.user LIMIT 1"));
    },

    plan(config, ctx): PlannedCredential {
      const room = MYSQL_MAX_NAME - config.username_prefix.length - RANDOM_LENGTH - 2;
      const name = `${config.username_prefix}_${nameSlug(ctx.roleName, room)}_${randomString(RANDOM_LENGTH, LOWER_ALNUM, opts.random)}`;
      return { identity: checkName(name), secrets: { password: randomString(32, URL_SAFE, opts.random) } };
    },

    async create(config, planned, ctx): Promise<CreatedCredential> {
      const name = checkName(planned.identity);
      const password = planned.secrets.password ?? "";
      if (!PASSWORD_RE.test(password)) throw new ProviderError("Invalid planned password.", false, "invalid_password");
      const vars = { name, password, expiration: mysqlDatetime(ctx.expiresAt), ttl_seconds: String(ctx.ttlSeconds) };
      await withRoot(config, "user creation", [password], async (c) => {
        try {
          await run(c, config.creation_statements, vars);
          if ((await hostsOf(c, name)).length === 0) {
            throw new ProviderError(`creation_statements did not create user ${name}.`, false, "no_user");
          }
        } catch (err) {
          await undoCreate(c, config, name);
          throw err;
        }
      });
      return {
        outputs: { username: name, password, connection_url: renderTemplate(config.connection_url, { username: name, password }) },
        revocation: {
          identity: name,
          ...(config.revocation_statements ? { revocation_statements: config.revocation_statements } : {}),
        },
      };
    },

    async revoke(config, revocation: RevocationData) {
      const name = checkName(revocation.identity);
      // The config's statements win (an operator may fix them); else the snapshot; else the default.
      const snapshot = revocation.revocation_statements;
      const statements =
        config.revocation_statements ??
        (Array.isArray(snapshot) && snapshot.every((s) => typeof s === "string") ? (snapshot as string[]) : DEFAULT_MYSQL_REVOCATION);
      await withRoot(config, "user revocation", [], async (c) => {
        if ((await hostsOf(c, name)).length > 0) await run(c, statements, { name });
        await killSessions(c, name);
      });
    },

    classifyError: classifyMysqlError,

    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.end().catch(() => undefined)));
    },
  };
}
