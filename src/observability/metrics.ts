import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { RevocationObserver } from "../leases/revoker.js";
import { LEASE_STATES, type LeaseStats } from "./lease-stats.js";

/** /metrics is served when METRICS_ENABLED=true or a METRICS_TOKEN is set; off by default. */
export const metricsEnabled = (c: Pick<Config, "METRICS_ENABLED" | "METRICS_TOKEN">) => c.METRICS_ENABLED || Boolean(c.METRICS_TOKEN);

/** The route label of requests no route matched (404s): never the raw URL, which may hold ids or secrets. */
export const UNMATCHED_ROUTE = "unmatched";

/** Seconds from expiry to revocation: the reaper runs every second, so most land in the first buckets. */
const LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 21600];

export interface MetricsDeps {
  stats: LeaseStats;
  clock: Clock;
  log?: Logger | undefined;
  /** Node's process metrics (CPU, memory, event loop, GC): only when /metrics is served. */
  processMetrics?: boolean;
}

/**
 * One prom-client Registry per server (never the global default), so several servers in one
 * process (tests) keep separate counts. Lease gauges are computed at scrape time with a grouped
 * count; a database failure then drops those series for that scrape (logged), the rest is served.
 */
export function createMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  const registers = [registry];
  if (deps.processMetrics) collectDefaultMetrics({ register: registry });
  const log = deps.log?.child({ component: "metrics" });

  const httpDuration = new Histogram({
    name: "leasehold_http_request_duration_seconds",
    help: "HTTP request latency by method, route pattern and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    registers,
  });
  new Gauge({
    name: "leasehold_leases",
    help: "Leases by state, counted at scrape time.",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      try {
        const counts = await deps.stats.countByState();
        for (const state of LEASE_STATES) this.set({ state }, counts[state]);
      } catch (err) {
        this.reset();
        log?.warn({ err: { message: (err as Error).message } }, "could not count leases for /metrics");
      }
    },
  });
  new Gauge({
    name: "leasehold_reaper_backlog",
    help: "Leases due for revocation (or for a retry) that no reaper has taken yet, at scrape time.",
    registers,
    async collect() {
      try {
        this.set(await deps.stats.countDue(deps.clock.now()));
      } catch (err) {
        this.reset();
        log?.warn({ err: { message: (err as Error).message } }, "could not count due leases for /metrics");
      }
    },
  });
  const revocationLag = new Histogram({
    name: "leasehold_lease_revocation_lag_seconds",
    help: "Time from a lease's expiry to the revocation of its credential (expiry revocations only).",
    buckets: LAG_BUCKETS,
    registers,
  });
  const revocationFailures = new Counter({
    name: "leasehold_lease_revocation_failures_total",
    help: "Failed revocation attempts, by provider.",
    labelNames: ["provider"] as const,
    registers,
  });
  const rateLimitRejections = new Counter({
    name: "leasehold_rate_limit_rejections_total",
    help: "Requests refused with 429 by the per-account rate limit.",
    registers,
  });

  const revocations: RevocationObserver = {
    revoked(lease, at) {
      if (lease.revokeReason !== "expired") return;
      revocationLag.observe(Math.max(0, (at.getTime() - lease.expiresAt.getTime()) / 1000));
    },
    failed(lease) {
      revocationFailures.inc({ provider: lease.provider });
    },
  };

  return {
    registry,
    observeRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void {
      httpDuration.observe({ method, route: route ?? UNMATCHED_ROUTE, status_code: String(statusCode) }, seconds);
    },
    /** Given to the lease revoker: revocation lag and failures. */
    revocations,
    rateLimited(): void {
      rateLimitRejections.inc();
    },
    /** The Prometheus text exposition of every metric. */
    scrape: (): Promise<string> => registry.metrics(),
    contentType: registry.contentType,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
