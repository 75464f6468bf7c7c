import { SECURITY, TAGS } from "./openapi.js";
import { withTimeout } from "../async.js";
import type { Container } from "../container.js";
import { readMigrations } from "../db/migrator.js";
import type { App } from "./types.js";

/** A readiness check that takes longer than this counts as failed (a hung pool, an unreachable host). */
export const READY_CHECK_TIMEOUT_MS = 2_000;

type CheckResult = "ok" | "failed" | "unknown";
export interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; migrations: CheckResult; master_key: CheckResult };
  /** Why it failed, for our log only: may hold database error text, never sent to the client. */
  cause?: string;
}

const inTime = <T>(p: Promise<T>): Promise<T> =>
  withTimeout(p, READY_CHECK_TIMEOUT_MS, () => new Error(`no answer within ${READY_CHECK_TIMEOUT_MS} ms`));

/**
 * Ready = the database answers, every migration this build ships is applied (none rolled back), and
 * the loaded master key opens the database's canary (it fails after another instance rotated the
 * key: this one must restart with the new key). Three one-row queries, no Prisma.
 */
export function createReadinessCheck(c: Pick<Container, "db" | "masterKey">, expected: string[]) {
  return async function check(): Promise<Readiness> {
    const checks: Readiness["checks"] = { database: "unknown", migrations: "unknown", master_key: "unknown" };
    try {
      await inTime(c.db.query("SELECT 1 AS ok"));
      checks.database = "ok";
    } catch (e) {
      checks.database = "failed";
      return { ready: false, checks, cause: (e as Error).message };
    }
    const causes: string[] = [];
    try {
      const rows = await inTime(c.db.query<{ name: string }>(
        `SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      ));
      const applied = new Set(rows.map((r) => r.name));
      const missing = expected.filter((m) => !applied.has(m));
      checks.migrations = missing.length === 0 ? "ok" : "failed";
      if (missing.length > 0) causes.push(`migrations not applied: ${missing.join(", ")}`);
    } catch (e) {
      checks.migrations = "failed";
      causes.push((e as Error).message);
    }
    try {
      const [row] = await inTime(c.db.query<{ canary: Uint8Array }>(`SELECT canary FROM master_key_check WHERE id = 1`));
      checks.master_key = row && c.masterKey.opensCanary(row.canary) ? "ok" : "failed";
      if (checks.master_key === "failed") causes.push("the loaded master key does not open the database's canary (rotated?)");
    } catch (e) {
      checks.master_key = "failed";
      causes.push((e as Error).message);
    }
    return { ready: causes.length === 0, checks, ...(causes.length > 0 ? { cause: causes.join("; ") } : {}) };
  };
}

/**
 * GET /healthz (alive: no database access) and GET /readyz (ready to serve). Unauthenticated, never
 * rate-limited (no principal), and logged at warn only, so probes do not flood the info log. A
 * failed readiness is logged once when it starts and once when it ends, with its cause; the client
 * only learns which check failed.
 */
export async function registerHealthRoutes(app: App, c: Pick<Container, "db" | "masterKey">): Promise<void> {
  const check = createReadinessCheck(c, (await readMigrations()).map((m) => m.name));
  const quiet = (summary: string) =>
    ({ logLevel: "warn", config: { rateLimit: false }, schema: { tags: [TAGS.operations], summary, security: SECURITY.none } }) as const;
  app.get("/healthz", quiet("Alive (no database access)"), async () => ({ status: "ok" }));
  let wasReady = true;
  app.get("/readyz", quiet("Ready: database reachable, migrations applied, master key loaded"), async (_req, reply) => {
    const r = await check();
    const failed = Object.entries(r.checks).filter(([, v]) => v === "failed").map(([k]) => k);
    if (r.ready !== wasReady) {
      wasReady = r.ready;
      // Check names as values: the log scrubber censors any property named like master_key.
      if (r.ready) app.log.info("ready again");
      else app.log.warn({ failedChecks: failed, cause: r.cause }, "not ready");
    }
    if (r.ready) return { status: "ready", checks: r.checks };
    return reply.code(503).send({ error: `Not ready: ${failed.join(", ")} check failed.`, status: "unavailable", checks: r.checks });
  });
}
