import { SECURITY, TAGS } from "./openapi.js";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Container } from "../container.js";
import { UnauthorizedError } from "../errors.js";
import { metricsEnabled } from "../observability/metrics.js";
import type { App } from "./types.js";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Whether the Authorization header is `Bearer <token>`: compared as SHA-256 digests, in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return timingSafeEqual(digest(m?.[1] ?? ""), digest(token)) && m !== null;
}

/**
 * GET /metrics in Prometheus' text format, when METRICS_ENABLED=true or METRICS_TOKEN is set (off:
 * 404, and no per-request work). With METRICS_TOKEN, scrapers must send `Authorization: Bearer
 * <token>`. Every response is timed into the latency histogram under its route pattern (not its
 * URL). Must be registered before the routes it times. Scrapes are logged at warn only.
 */
export function registerMetrics(app: App, c: Pick<Container, "config" | "metrics">): void {
  if (!metricsEnabled(c.config)) return;
  const { metrics } = c;
  app.addHook("onResponse", (req, reply, done) => {
    metrics.observeRequest(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  const token = c.config.METRICS_TOKEN;
  const schema = {
    tags: [TAGS.operations],
    summary: "Prometheus metrics (enabled by METRICS_TOKEN or METRICS_ENABLED)",
    security: token ? [{ BearerToken: [] }] : SECURITY.none,
  };
  app.get("/metrics", { logLevel: "warn", config: { rateLimit: false }, schema }, async (req, reply) => {
    if (token && !bearerMatches(req.headers.authorization, token)) {
      throw new UnauthorizedError("A valid metrics token is required.", { "WWW-Authenticate": 'Bearer realm="metrics"' });
    }
    const body = await metrics.scrape();
    return reply.type(metrics.contentType).send(body);
  });
}
