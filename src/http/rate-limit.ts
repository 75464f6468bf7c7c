import rateLimit from "@fastify/rate-limit";
import { Redis } from "ioredis";
import { accountKey } from "../auth/principal.js";
import type { Container } from "../container.js";
import { AppError } from "../errors.js";
import type { App } from "./types.js";

/** Redis keys are `<namespace><account key>`, e.g. `leasehold-rl:sa_<uuid>` (account ids are random UUIDs). */
export const RATE_LIMIT_NAMESPACE = "leasehold-rl:";

/** Phase's (DRF's) throttled reply: 429, `Retry-After: <ceil seconds>`, singular for one second. */
export class ThrottledError extends AppError {
  constructor(readonly waitSeconds: number) {
    super(
      429,
      `Request was throttled. Expected available in ${waitSeconds} second${waitSeconds === 1 ? "" : "s"}.`,
      {},
      { "Retry-After": String(waitSeconds) },
    );
  }
}

/**
 * RATE_LIMIT_DEFAULT as Phase reads it (unset: no limit). One bucket per account, shared by all of
 * its tokens and routes. The check runs in `preParsing`, which Fastify runs after every `onRequest`
 * hook of the route (root or encapsulated, where our authentication hooks live) and before the body
 * is parsed or validated: 401s never count, and a throttled request is refused before its body is
 * read. Requests without a principal (health checks, 404s) are not limited.
 *
 * With REDIS_URL the buckets live in Redis, shared by every instance. If Redis is unreachable
 * requests are let through (and the outage logged) rather than failing the whole API.
 */
export async function registerRateLimit(app: App, c: Pick<Container, "config"> & Partial<Pick<Container, "metrics">>): Promise<void> {
  const limit = c.config.RATE_LIMIT_DEFAULT;
  if (!limit) return;
  const redis = c.config.REDIS_URL ? await connectRedis(app, c.config.REDIS_URL) : undefined;
  const off = { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false } as const;
  await app.register(rateLimit, {
    global: true,
    hook: "preParsing",
    max: limit.max,
    timeWindow: limit.windowMs,
    cache: 50_000, // in-memory store: accounts tracked before the least recent one is forgotten
    ...(redis ? { redis, nameSpace: RATE_LIMIT_NAMESPACE, skipOnError: true } : {}),
    allowList: (req) => !req.principal,
    keyGenerator: (req) => (req.principal ? accountKey(req.principal) : `anon_${req.ip}`),
    // Phase sends Retry-After only (set by ThrottledError, so header and body always agree).
    addHeadersOnExceeding: off,
    addHeaders: { ...off, "retry-after": false },
    onExceeded: () => c.metrics?.rateLimited(),
    errorResponseBuilder: (_req, ctx) => new ThrottledError(Math.max(1, Math.ceil(ctx.ttl / 1000))),
  });
}

/** Connects (waiting for the first connection or its failure, at most connectTimeout). */
async function connectRedis(app: App, url: string): Promise<Redis> {
  const redis = new Redis(url, {
    // A slow or absent Redis must not hold requests: while disconnected commands fail at once (no
    // offline queue), and the request goes through unlimited.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    connectionName: `leasehold:${process.pid}`,
  });
  let lastLogged = 0;
  redis.on("error", (err: Error) => {
    if (Date.now() - lastLogged < 30_000) return;
    lastLogged = Date.now();
    app.log.warn({ err: { message: err.message } }, "rate-limit Redis unavailable; requests are not being limited");
  });
  app.addHook("onClose", async () => {
    if (redis.status === "ready") await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  });
  await new Promise<void>((resolve) => {
    const settle = () => {
      redis.off("ready", settle);
      redis.off("error", settle);
      resolve();
    };
    redis.on("ready", settle);
    redis.on("error", settle);
  });
  return redis;
}
