import rateLimit from "@fastify/rate-limit";
import type { App } from "./types.js";
import { Redis } from "ioredis";
import { accountKey } from "../auth/principal.js";
import type { Container } from "../container.js";

/**
 * RATE_LIMIT_DEFAULT as Phase reads it (unset: no limit). One bucket per account, shared by all of
 * its tokens and routes, counted after authentication (so 401s never count), Phase's 429 body and
 * Retry-After. With REDIS_URL the buckets live in Redis and are shared by every instance.
 */
export async function registerRateLimit(app: App, c: Pick<Container, "config">): Promise<void> {
  const limit = c.config.RATE_LIMIT_DEFAULT;
  if (!limit) return;
  const redis = c.config.REDIS_URL
    ? new Redis(c.config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false })
    : undefined;
  if (redis) app.addHook("onClose", async () => void (await redis.quit().catch(() => undefined)));
  await app.register(rateLimit, {
    global: true,
    hook: "preParsing", // after the onRequest authentication hooks
    max: limit.max,
    timeWindow: limit.windowMs,
    ...(redis ? { redis, nameSpace: "leasehold-rl:" } : {}),
    allowList: (req) => !req.principal,
    keyGenerator: (req) => (req.principal ? accountKey(req.principal) : req.ip),
    addHeadersOnExceeding: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false },
    addHeaders: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false, "retry-after": true },
    errorResponseBuilder: (_req, ctx) => {
      const seconds = Math.max(1, Math.ceil(ctx.ttl / 1000));
      return {
        statusCode: 429,
        error: `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? "" : "s"}.`,
      };
    },
  });
}
