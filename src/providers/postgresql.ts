import pg from "pg";
import { nameSlug } from "./names.js";
import { postgresConfigSchema, type PostgresConfig } from "./postgresql-config.js";
import { createRootConnections } from "./postgresql-connections.js";
import { classifyPostgresError } from "./postgresql-errors.js";
import { hasPasswordClause, scramVerifierAsync, withVerifierInPasswordClauses } from "./postgresql-scram.js";
import { ACL_LOCK, pgTimestamp, REVOKE_ALL_SCRIPT } from "./postgresql-sql.js";
import {
  DATABASE_CONNECTION,
  ProviderError,
  type CreateContext,
  type CreatedCredential,
  type PlanContext,
  type PlannedCredential,
  type Provider,
  type RevocationData,
} from "./provider.js";
import { LOWER_ALNUM, randomString, URL_SAFE, type RandomSource } from "./random.js";
import { renderTemplate } from "./templates.js";

export type { PostgresConfig } from "./postgresql-config.js";
export { pgTimestamp } from "./postgresql-sql.js";

export interface PostgresProviderOptions {
  random?: RandomSource;
  /** Added to the lease expiry for VALID UNTIL, so the role outlives the lease a little (Vault: 5 s). */
  expiryBufferSeconds?: number;
  /** Connections per root configuration. */
  poolMax?: number;
}

export interface PostgresProvider extends Provider<PostgresConfig> {
  /** The pool used for a configuration (one per distinct root connection). */
  poolFor(config: PostgresConfig): pg.Pool;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;
const PASSWORD_RE = /^[A-Za-z0-9_-]{16,128}$/;
const DEFAULT_RENEW = [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}'`];

function checkName(identity: string): string {
  if (!NAME_RE.test(identity)) throw new ProviderError("Invalid PostgreSQL role name.", false, "invalid_identity");
  return identity;
}

/**
 * Dynamic PostgreSQL roles. Creation runs in one transaction and always leaves the role with
 * VALID UNTIL = expiry + buffer, so it stops accepting password logins even if revocation never
 * happens. Default revocation (idempotent) sets NOLOGIN, terminates the role's sessions, revokes,
 * reassigns what it owns to the root role, drops the rest and drops the role. A root that is not
 * superuser (CREATEROLE) first grants itself membership in the role, which those steps require.
 * Limits: REASSIGN OWNED / DROP OWNED only act on the database in connection_url, so objects or
 * grants in other databases make DROP ROLE fail (2BP01, permanent); so do grants made by another
 * grantor when the root is not superuser. Custom revocation statements run in one transaction
 * (after the same membership grant for a root that is not superuser) and do not terminate
 * sessions unless they say so.
 */
export function createPostgresProvider(opts: PostgresProviderOptions = {}): PostgresProvider {
  const bufferMs = (opts.expiryBufferSeconds ?? 5) * 1000;
  const { poolFor, retire, withRoot, closeAll, serverScramIterations } = createRootConnections(opts.poolMax ?? 3);

  async function inTransaction(c: pg.ClientBase, fn: () => Promise<void>): Promise<void> {
    await c.query("BEGIN");
    try {
      await fn();
      await c.query("COMMIT");
    } catch (err) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  }

  /**
   * Creation in two round trips: BEGIN, the scripts and the expiry check go as one simple query
   * (several statements; on an error the server skips the rest and the transaction is aborted),
   * then COMMIT, preceded by our VALID UNTIL when the scripts set none or a later one. On a
   * failure withRoot discards the connection, which ends the transaction on the server.
   */
  async function createInOneTransaction(c: pg.ClientBase, scripts: string[], name: string, validUntil: string): Promise<void> {
    const check = `SELECT rolvaliduntil IS NULL OR rolvaliduntil > ${c.escapeLiteral(validUntil)}::timestamptz AS needs FROM pg_roles WHERE rolname = ${c.escapeLiteral(name)}`;
    // A newline before each separator ends a trailing "-- comment" of the script before it.
    const results = (await c.query(["BEGIN", ...scripts, check].join("\n;\n"))) as unknown as pg.QueryResult<{ needs: boolean }>[];
    const row = results.at(-1)?.rows[0];
    if (!row) throw new ProviderError(`creation_statements did not create role ${name}.`, false, "no_role");
    await c.query(row.needs ? `ALTER ROLE ${c.escapeIdentifier(name)} VALID UNTIL ${c.escapeLiteral(validUntil)};COMMIT` : "COMMIT");
  }

  async function roleExists(c: pg.ClientBase, name: string): Promise<boolean> {
    const { rowCount } = await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name]);
    return (rowCount ?? 0) > 0;
  }

  async function runScripts(c: pg.ClientBase, scripts: readonly string[], vars: Record<string, string>) {
    // No parameters → simple query protocol: a script may hold several statements and DO blocks.
    for (const script of scripts) await c.query(renderTemplate(script, vars));
  }

  async function isSuperuser(c: pg.ClientBase): Promise<boolean> {
    const { rows } = await c.query<{ rolsuper: boolean }>("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
    return rows[0]?.rolsuper === true;
  }

  async function defaultRevoke(c: pg.ClientBase, name: string): Promise<void> {
    const ident = c.escapeIdentifier(name);
    try {
      await c.query(`ALTER ROLE ${ident} NOLOGIN`); // no new sessions from here on
    } catch (err) {
      if ((err as { code?: string }).code === "42704") return; // dropped meanwhile
      throw err;
    }
    // A CREATEROLE root that is not superuser needs membership in the role to terminate its
    // sessions and to REASSIGN/DROP OWNED; DROP ROLE removes the membership again.
    if (!(await isSuperuser(c))) await c.query(`GRANT ${ident} TO CURRENT_USER`);
    await c.query(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()",
      [name],
    );
    await inTransaction(c, async () => {
      await c.query("SELECT set_config('leasehold.revoke_role', $1, true)", [name]);
      await c.query(REVOKE_ALL_SCRIPT);
      await c.query(`REASSIGN OWNED BY ${ident} TO CURRENT_USER`);
      await c.query(`DROP OWNED BY ${ident}`);
      await c.query(`DROP ROLE IF EXISTS ${ident}`);
    });
  }

  return {
    id: "postgresql",
    configSchema: postgresConfigSchema,
    secretFields: ["password"],
    connection: DATABASE_CONNECTION,
    capabilities: { renewableUpstream: true, revocationRequired: true },
    defaultKeyMap: [
      { id: "username", keyName: "DB_USERNAME", masked: false },
      { id: "password", keyName: "DB_PASSWORD", masked: true },
      { id: "connection_url", keyName: "DATABASE_URL", masked: true },
    ],
    poolFor,

    async testConnection(config) {
      const check = async (c: pg.ClientBase) => {
        const { rows } = await c.query<{ ok: boolean }>(
          "SELECT rolsuper OR rolcreaterole AS ok FROM pg_roles WHERE rolname = current_user",
        );
        if (!rows[0]?.ok) {
          throw new ProviderError("The root role needs CREATEROLE (or superuser) to manage roles.", false, "42501");
        }
      };
      await withRoot(config, "connection test", [], check, true);
    },

    plan(config, ctx: PlanContext): PlannedCredential {
      const name = `${config.username_prefix}_${nameSlug(ctx.roleName)}_${randomString(16, LOWER_ALNUM, opts.random)}`;
      return { identity: checkName(name), secrets: { password: randomString(32, URL_SAFE, opts.random) } };
    },

    async create(config, planned, ctx: CreateContext): Promise<CreatedCredential> {
      const name = checkName(planned.identity);
      const password = planned.secrets.password ?? "";
      if (!PASSWORD_RE.test(password)) throw new ProviderError("Invalid planned password.", false, "invalid_password");
      const validUntil = pgTimestamp(new Date(ctx.expiresAt.getTime() + bufferMs));
      const vars = { name, password, expiration: validUntil, ttl_seconds: String(ctx.ttlSeconds) };
      // Hashed here, before a root connection is taken: the server stores the verifier as it is.
      let statements = config.creation_statements;
      const verifier = hasPasswordClause(statements)
        ? await scramVerifierAsync(password, config.scram_iterations ?? (await serverScramIterations(config)))
        : undefined;
      if (verifier) statements = statements.map((s) => withVerifierInPasswordClauses(s, verifier));
      // An error quoting the statement must carry neither the password nor its verifier.
      await withRoot(config, "role creation", [password, verifier], (c) =>
        createInOneTransaction(c, statements.map((s) => renderTemplate(s, vars)), name, validUntil),
      );
      const connectionUrl = renderTemplate(config.connection_url, { username: name, password });
      return {
        outputs: { username: name, password, connection_url: connectionUrl },
        revocation: {
          identity: name,
          ...(config.revocation_statements ? { revocation_statements: config.revocation_statements } : {}),
        },
      };
    },

    async revoke(config, revocation: RevocationData) {
      const name = checkName(revocation.identity);
      // The definition's current statements win (an operator may fix them); else the snapshot.
      const snapshot = revocation.revocation_statements;
      const custom = config.revocation_statements ?? (Array.isArray(snapshot) ? (snapshot as string[]) : undefined);
      await withRoot(config, "role revocation", [], async (c) => {
        if (!(await roleExists(c, name))) return;
        if (custom) {
          await inTransaction(c, async () => {
            // As in the default revocation: a CREATEROLE root needs membership for DROP OWNED / REASSIGN OWNED,
            // and ACL edits are serialised (REVOKE ... ON ALL TABLES of concurrent revocations
            // otherwise fail with "tuple concurrently updated").
            await c.query(`SELECT pg_advisory_xact_lock(${ACL_LOCK})`);
            if (!(await isSuperuser(c))) await c.query(`GRANT ${c.escapeIdentifier(name)} TO CURRENT_USER`);
            await runScripts(c, custom, { name });
          });
        }
        else await defaultRevoke(c, name);
      });
    },

    async renew(config, revocation: RevocationData, expiresAt: Date) {
      const name = checkName(revocation.identity);
      const vars = { name, expiration: pgTimestamp(new Date(expiresAt.getTime() + bufferMs)) };
      await withRoot(config, "role renewal", [], async (c) => {
        if (!(await roleExists(c, name))) throw new ProviderError(`Role ${name} no longer exists.`, false, "not_found");
        await inTransaction(c, () => runScripts(c, config.renew_statements ?? DEFAULT_RENEW, vars));
      });
    },

    /** The root role's own password, sent as a SCRAM verifier (never in clear to the server's logs). */
    async rotateRoot(config, newPassword) {
      if (!PASSWORD_RE.test(newPassword)) throw new ProviderError("Invalid new root password.", false, "invalid_password");
      const verifier = await scramVerifierAsync(newPassword, await serverScramIterations(config));
      await withRoot(config, "root password change", [newPassword, verifier], async (c) => {
        await c.query(`ALTER ROLE CURRENT_USER WITH PASSWORD ${c.escapeLiteral(verifier)}`);
      });
      retire(config);
    },

    classifyError: classifyPostgresError,

    close: closeAll,
  };
}
