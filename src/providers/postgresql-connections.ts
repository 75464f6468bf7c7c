import { createHash } from "node:crypto";
import pg from "pg";
import type { PostgresConfig } from "./postgresql-config.js";
import { classifyPostgresError } from "./postgresql-errors.js";
import { DEFAULT_SCRAM_ITERATIONS } from "./postgresql-scram.js";
import { ProviderError } from "./provider.js";
import { toProviderError } from "./scrub.js";
import { renderTemplate } from "./templates.js";

/**
 * The PostgreSQL provider's root connections: one small pool per root configuration (the root
 * password is part of its key), fresh logins for connection tests, and every failure turned into
 * a scrubbed ProviderError.
 */
export function createRootConnections(poolMax: number) {
  const pools = new Map<string, pg.Pool>();
  /** The target's own SCRAM iteration count, read once per pool (so once per root configuration). */
  const iterations = new WeakMap<pg.Pool, Promise<number>>();

  function rootUrl(config: PostgresConfig): string {
    return renderTemplate(config.connection_url, {
      username: encodeURIComponent(config.username),
      password: encodeURIComponent(config.password),
    });
  }

  const poolKey = (url: string) => createHash("sha256").update(url).digest("hex");

  function poolFor(config: PostgresConfig): pg.Pool {
    const url = rootUrl(config);
    const key = poolKey(url);
    let pool = pools.get(key);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: url,
        max: poolMax,
        idleTimeoutMillis: 30_000,
        connectionTimeoutMillis: 10_000,
        statement_timeout: 30_000,
        lock_timeout: 10_000,
        application_name: "leasehold-provider",
      });
      // An idle client dying (server restart) must not crash the process; the next call reconnects.
      pool.on("error", () => undefined);
      pools.set(key, pool);
    }
    return pool;
  }

  /**
   * After a root password change: the old password's pool is dropped and ended (idle connections
   * close now, checked-out ones when released). Not awaited: a call still holding one of its
   * connections must not hold up the rotation.
   */
  function retire(config: PostgresConfig): void {
    const key = poolKey(rootUrl(config));
    const pool = pools.get(key);
    pools.delete(key);
    void pool?.end().catch(() => undefined);
  }

  /**
   * A root connection of its own, closed after `fn`: a login made now. A connection test must not
   * reuse a pooled one, which logged in earlier and would pass with a password the target has
   * since changed (rotate-root checks after a failure whether the old password still works).
   */
  async function freshRoot<T>(config: PostgresConfig, fn: (c: pg.ClientBase) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: rootUrl(config), connectionTimeoutMillis: 10_000, statement_timeout: 30_000, application_name: "leasehold-provider" });
    client.on("error", () => undefined);
    try {
      await client.connect();
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Runs `fn` on a pooled root connection (or, `fresh`, a new login); every failure leaves as a scrubbed ProviderError. */
  async function withRoot<T>(
    config: PostgresConfig,
    what: string,
    secrets: (string | undefined)[],
    fn: (c: pg.ClientBase) => Promise<T>,
    fresh = false,
  ): Promise<T> {
    let client: pg.PoolClient | undefined;
    try {
      if (fresh) return await freshRoot(config, fn);
      client = await poolFor(config).connect();
      const result = await fn(client);
      client.release();
      return result;
    } catch (err) {
      client?.release(true); // never hand a connection in an unknown state back to the pool
      const e = err as { code?: unknown };
      const failure = toProviderError(err, {
        prefix: `PostgreSQL ${what} failed`,
        secrets: [...secrets, config.password],
        retryable: classifyPostgresError(err) === "retryable",
        ...(typeof e?.code === "string" ? { code: e.code } : {}),
      });
      // No connection, nothing sent: the target is as it was.
      throw client || fresh ? failure : new ProviderError(failure.message, failure.retryable, failure.code, true);
    }
  }

  /**
   * The iteration count the target would use itself for a clear password: its scram_iterations
   * (PostgreSQL 16 on, as the root role's session sees it), else PostgreSQL's fixed 4096. Read on
   * first use and kept; a failed read is not kept.
   */
  function serverScramIterations(config: PostgresConfig): Promise<number> {
    const pool = poolFor(config);
    const known = iterations.get(pool);
    if (known) return known;
    const read = withRoot(config, "settings read", [], async (c) => {
      const { rows } = await c.query<{ i: string | null }>("SELECT current_setting('scram_iterations', true) AS i");
      const n = Number(rows[0]?.i);
      return Number.isSafeInteger(n) && n >= 1 ? n : DEFAULT_SCRAM_ITERATIONS;
    });
    iterations.set(pool, read);
    read.catch(() => iterations.get(pool) === read && iterations.delete(pool));
    return read;
  }

  return {
    poolFor,
    serverScramIterations,
    retire,
    withRoot,
    async closeAll(): Promise<void> {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.end().catch(() => undefined)));
    },
  };
}
