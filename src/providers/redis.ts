import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { nameSlug } from "./names.js";
import { DATABASE_CONNECTION, ProviderError, type CreatedCredential, type PlannedCredential, type Provider, type RevocationData } from "./provider.js";
import { LOWER_ALNUM, randomString, URL_SAFE, type RandomSource } from "./random.js";
import { redisConfigSchema, redisTarget, type RedisConfig } from "./redis-config.js";
import { classifyRedisError, isReplyError } from "./redis-errors.js";
import { toProviderError } from "./scrub.js";
import { renderTemplate } from "./templates.js";

export type { RedisConfig } from "./redis-config.js";

export interface RedisProviderOptions {
  random?: RandomSource;
}

export interface RedisProvider extends Provider<RedisConfig> {
  /** The (connected) client used for a configuration: one per distinct root connection. */
  clientFor(config: RedisConfig): Promise<Redis>;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,127}$/;
const PASSWORD_RE = /^[A-Za-z0-9_-]{16,128}$/;
/** Commands the root needs, checked by testConnection with ACL DRYRUN (Redis 7+). */
const NEEDED = [
  ["ACL", "SETUSER", "leasehold_probe"],
  ["ACL", "DELUSER", "leasehold_probe"],
  ["CLIENT", "KILL", "USER", "leasehold_probe"],
];

/** QUIT, then wait until the socket is closed (disconnect if QUIT fails). */
async function quit(c: Redis): Promise<void> {
  const ended = new Promise((resolve) => (c.status === "end" ? resolve(undefined) : c.once("end", resolve)));
  await c.quit().catch(() => c.disconnect());
  await ended;
}

function checkName(identity: string): string {
  if (!NAME_RE.test(identity)) throw new ProviderError("Invalid Redis user name.", false, "invalid_identity");
  return identity;
}

/**
 * Dynamic Redis ACL users. Create runs `ACL SETUSER <name> reset on ><password> <rules…>` (one
 * command: Redis applies all of it or nothing); revoke runs `CLIENT KILL USER <name>` and
 * `ACL DELUSER <name>`, both counting "no such user" as done. Redis users carry no expiry, so
 * nothing is renewed upstream. Users live in the server's memory: with an aclfile they are not
 * written to it (no ACL SAVE), so a restart forgets them, which is a revocation too.
 */
export function createRedisProvider(opts: RedisProviderOptions = {}): RedisProvider {
  const clients = new Map<string, Promise<Redis>>();

  function clientFor(config: RedisConfig): Promise<Redis> {
    const t = redisTarget(config.connection_url);
    const key = createHash("sha256").update(JSON.stringify([t, config.username, config.password])).digest("hex");
    let entry = clients.get(key);
    if (!entry) {
      const client = new Redis({
        host: t.host,
        port: t.port,
        db: t.db,
        ...(t.tls ? { tls: { servername: t.host } } : {}),
        // No password: no AUTH at all (ioredis would otherwise send AUTH <user> "").
        ...(config.password ? { username: config.username, password: config.password } : {}),
        lazyConnect: true,
        connectTimeout: 10_000,
        commandTimeout: 30_000,
        // Fail fast; a closed client is replaced by a new one on the next call.
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        disableClientInfo: true,
        enableReadyCheck: false, // INFO may be denied to the root; ioredis would warn on the console
        connectionName: "leasehold-provider",
      });
      // Errors are reported through the failing command; a failed connect reports the socket's
      // own error (ECONNREFUSED, WRONGPASS…) rather than ioredis's "Connection is closed."
      let lastError: unknown;
      client.on("error", (err: unknown) => void (lastError = err));
      const connected = client.connect().then(
        () => client,
        (err: unknown) => Promise.reject(lastError ?? err),
      );
      entry = connected;
      const forget = () => {
        if (clients.get(key) === connected) clients.delete(key);
      };
      client.once("end", forget);
      connected.catch(() => {
        forget();
        client.disconnect();
      });
      clients.set(key, entry);
    }
    return entry;
  }

  /** Runs `fn` with the configuration's client; every failure leaves as a scrubbed ProviderError. */
  async function withRoot<T>(config: RedisConfig, what: string, secrets: string[], fn: (c: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(await clientFor(config));
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      throw toProviderError(err, {
        prefix: `Redis ${what} failed`,
        secrets: [...secrets, config.password],
        retryable: classifyRedisError(err) === "retryable",
        ...(typeof code === "string" ? { code } : isReplyError(err) ? { code: err.message.split(" ")[0] as string } : {}),
      });
    }
  }

  /** Runs a command whose only failure we accept is "no such user" (already gone). */
  async function unlessNoSuchUser(p: Promise<unknown>): Promise<void> {
    await p.catch((err: unknown) => {
      if (!(isReplyError(err) && /no such user/i.test(err.message))) throw err;
    });
  }

  async function deleteUser(c: Redis, name: string): Promise<void> {
    await unlessNoSuchUser(c.call("CLIENT", ["KILL", "USER", name]));
    await c.call("ACL", ["DELUSER", name]); // 0 deleted: already gone
  }

  return {
    id: "redis",
    configSchema: redisConfigSchema,
    secretFields: ["password"],
    connection: DATABASE_CONNECTION,
    capabilities: { renewableUpstream: false, revocationRequired: true },
    defaultKeyMap: [
      { id: "username", keyName: "REDIS_USERNAME", masked: false },
      { id: "password", keyName: "REDIS_PASSWORD", masked: true },
      { id: "connection_url", keyName: "REDIS_URL", masked: true },
    ],
    clientFor,

    async testConnection(config) {
      await withRoot(config, "connection test", [], async (c) => {
        const me = String(await c.call("ACL", ["WHOAMI"]));
        for (const cmd of NEEDED) {
          const verdict = await c.call("ACL", ["DRYRUN", me, ...cmd]).catch((err: unknown) => {
            if (isReplyError(err) && /unknown subcommand/i.test(err.message)) return "OK"; // Redis 6: no DRYRUN
            throw err;
          });
          if (verdict !== "OK") throw new ProviderError(`The root user may not run ${cmd.slice(0, 2).join(" ")}: ${String(verdict)}`, false, "NOPERM");
        }
      });
    },

    plan(config, ctx): PlannedCredential {
      const name = `${config.username_prefix}_${nameSlug(ctx.roleName)}_${randomString(16, LOWER_ALNUM, opts.random)}`;
      return { identity: checkName(name), secrets: { password: randomString(32, URL_SAFE, opts.random) } };
    },

    async create(config, planned): Promise<CreatedCredential> {
      const name = checkName(planned.identity);
      const password = planned.secrets.password ?? "";
      if (!PASSWORD_RE.test(password)) throw new ProviderError("Invalid planned password.", false, "invalid_password");
      const rules = config.creation_statements.map((r) => renderTemplate(r, { name }));
      await withRoot(config, "user creation", [password], async (c) => {
        try {
          await c.call("ACL", ["SETUSER", name, "reset", "on", `>${password}`, ...rules]);
        } catch (err) {
          await deleteUser(c, name).catch(() => undefined);
          throw err;
        }
      });
      return {
        outputs: { username: name, password, connection_url: renderTemplate(config.connection_url, { username: name, password }) },
        revocation: { identity: name },
      };
    },

    async revoke(config, revocation: RevocationData) {
      const name = checkName(revocation.identity);
      await withRoot(config, "user revocation", [], (c) => deleteUser(c, name));
    },

    classifyError: classifyRedisError,

    async close() {
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map((p) => p.then(quit, () => undefined)));
    },
  };
}
