import cron from "node-cron";
import { z } from "zod";

/** Phase's DRF-style rate: "<int>/<period>", only the period's first letter counts (s, m, h, d). */
const RATE_PATTERN = /^(\d+)\/([smhd])[a-z]*$/i;
const PERIOD_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export interface RateLimit {
  max: number;
  windowMs: number;
}

export function parseRate(value: string): RateLimit {
  const m = RATE_PATTERN.exec(value.trim());
  if (!m || Number(m[1]) < 1) throw new Error(`expected "<count>/<period>" such as 120/minute or 10/s`);
  return { max: Number(m[1]), windowMs: PERIOD_MS[m[2]!.toLowerCase() as keyof typeof PERIOD_MS] };
}

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const masterKey = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .refine((v) => /^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, "base64").length === 32, {
      message: "must be the base64 encoding of exactly 32 bytes (openssl rand -base64 32)",
    })
    .transform((v) => new Uint8Array(Buffer.from(v, "base64")))
    .optional(),
);

const intSetting = (min: number, max: number, fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

/** Points where the lease code can SIGKILL itself (crash tests; see src/leases/faults.ts). */
export const FAULT_POINTS = [
  "after-row-insert",
  "after-provider-create",
  "before-activate",
  "after-claim",
  "after-provider-revoke",
  "before-finalize",
  // rotate-root (src/engines/rotation.ts): the target's root password changed, not yet stored as the root.
  "engine-root-rotated",
] as const;

const booleanFlag = z.preprocess(
  emptyToUndefined,
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .transform((v) => v === "true" || v === "1" || v === "yes")
    .default(false),
);

const settings = z
  .object({
    DATABASE_URL: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .refine((v) => /^postgres(ql)?:\/\//.test(v), { message: "must be a postgresql:// URL" })
        .optional(),
    ),
    LEASEHOLD_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default("./.leasehold")),
    LEASEHOLD_MASTER_KEY: masterKey,
    HOST: z.preprocess(emptyToUndefined, z.string().default("127.0.0.1")),
    PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(8080)),
    TLS_CERT_FILE: optionalString,
    TLS_KEY_FILE: optionalString,
    RATE_LIMIT_DEFAULT: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .transform((v, ctx) => {
          try {
            return parseRate(v);
          } catch (e) {
            ctx.addIssue({ code: "custom", message: (e as Error).message });
            return z.NEVER;
          }
        })
        .optional(),
    ),
    REDIS_URL: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .refine((v) => /^rediss?:\/\//.test(v), { message: "must be a redis:// or rediss:// URL" })
        .optional(),
    ),
    LOG_LEVEL: z.preprocess(
      emptyToUndefined,
      z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    ),
    LEASEHOLD_BOOTSTRAP_TOKEN: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^[0-9a-f]{64}$/, { message: "must be 64 lowercase hex characters (openssl rand -hex 32)" })
        .optional(),
    ),
    /** After SIGTERM/SIGINT, exit 1 if the graceful shutdown has not finished in this time (docker-compose allows 30 s). */
    SHUTDOWN_TIMEOUT_MS: intSetting(100, 3_600_000, 25_000),
    /** Audit writer: flush when this many events are buffered, or after the interval. */
    AUDIT_FLUSH_INTERVAL_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).default(250)),
    AUDIT_BATCH_SIZE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(10_000).default(500)),
    /** Audit events older than this many days are deleted by the retention job; 0 keeps them forever. */
    AUDIT_RETENTION_DAYS: intSetting(0, 36_500, 0),
    /** The retention job's node-cron schedule (6 fields, seconds first), or "off". */
    AUDIT_RETENTION_SCHEDULE: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .refine((v) => v === "off" || cron.validate(v), { message: 'must be a cron expression such as "0 17 * * * *", or "off"' })
        .default("0 17 * * * *"),
    ),
    /** Rows deleted per statement by the retention job (each batch is its own short transaction). */
    AUDIT_RETENTION_BATCH_SIZE: intSetting(1, 100_000, 5_000),
    LEASEHOLD_REVOCATION_PAUSED: booleanFlag,
    /** The reaper's node-cron schedule (6 fields, seconds first), or "off" to run it only by hand. */
    LEASEHOLD_REAPER_SCHEDULE: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .refine((v) => v === "off" || cron.validate(v), { message: 'must be a cron expression such as "* * * * * *", or "off"' })
        .default("* * * * * *"),
    ),
    /** Failed revocation attempts before a lease becomes REVOKE_FAILED (then retried slowly). */
    LEASEHOLD_REVOCATION_MAX_ATTEMPTS: intSetting(1, 100, 6),
    /** Exponential backoff with full jitter between attempts: base * 2^(attempt-1), capped. */
    LEASEHOLD_REVOCATION_BACKOFF_BASE_MS: intSetting(1, 3_600_000, 2_000),
    LEASEHOLD_REVOCATION_BACKOFF_MAX_MS: intSetting(1, 86_400_000, 300_000),
    /** How often a REVOKE_FAILED lease is tried again. */
    LEASEHOLD_REVOCATION_SLOW_RETRY_MS: intSetting(1_000, 7 * 86_400_000, 3_600_000),
    /** How long a claim (by the reaper or a revoke request) is exclusive before others may take over. */
    LEASEHOLD_REAPER_CLAIM_TTL_MS: intSetting(100, 3_600_000, 120_000),
    /** Leases claimed per reaper query. */
    LEASEHOLD_REAPER_BATCH_SIZE: intSetting(1, 10_000, 200),
    /** Revocations running at once against one provider configuration (one target database or account). */
    LEASEHOLD_REAPER_CONCURRENCY_PER_TARGET: intSetting(1, 1_000, 4),
    /** A lease still CREATING after this long is rolled back by the reaper. */
    LEASEHOLD_LEASE_CREATE_TIMEOUT_MS: intSetting(100, 3_600_000, 60_000),
    /** A provider revoke call taking longer than this counts as a failed (retryable) attempt. */
    LEASEHOLD_PROVIDER_TIMEOUT_MS: intSetting(100, 3_600_000, 30_000),
    /** Test-only: SIGKILL this process at a lease step; honoured only with NODE_ENV=test or the flag below. */
    LEASEHOLD_FAULT: z.preprocess(emptyToUndefined, z.enum(FAULT_POINTS).optional()),
    LEASEHOLD_ENABLE_FAULT_INJECTION: booleanFlag,
    /** Behind a reverse proxy: take the client IP from X-Real-IP / X-Forwarded-For for the audit trail. */
    TRUST_PROXY: booleanFlag,
    /** GET /metrics (Prometheus): off unless METRICS_ENABLED=true or METRICS_TOKEN is set. */
    METRICS_ENABLED: booleanFlag,
    /** Bearer token /metrics requires (compared in constant time); setting it enables /metrics. */
    METRICS_TOKEN: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^[\x21-\x7e]{16,256}$/, { message: "must be 16 to 256 printable characters without spaces (openssl rand -hex 32)" })
        .optional(),
    ),
  });

/** `requireMasterKey: false` for commands that never touch encrypted data (`leasehold migrate`). */
const refined = (requireMasterKey: boolean) =>
  settings.superRefine((c, ctx) => {
    if (c.LEASEHOLD_PROVIDER_TIMEOUT_MS >= c.LEASEHOLD_REAPER_CLAIM_TTL_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["LEASEHOLD_PROVIDER_TIMEOUT_MS"],
        message: "must be shorter than LEASEHOLD_REAPER_CLAIM_TTL_MS (a claim must outlive the call it covers)",
      });
    }
    if (requireMasterKey && c.DATABASE_URL && !c.LEASEHOLD_MASTER_KEY) {
      ctx.addIssue({
        code: "custom",
        path: ["LEASEHOLD_MASTER_KEY"],
        message: "is required when DATABASE_URL is set (generate one with: openssl rand -base64 32)",
      });
    }
    if (Boolean(c.TLS_CERT_FILE) !== Boolean(c.TLS_KEY_FILE)) {
      ctx.addIssue({
        code: "custom",
        path: [c.TLS_CERT_FILE ? "TLS_KEY_FILE" : "TLS_CERT_FILE"],
        message: "TLS_CERT_FILE and TLS_KEY_FILE must be set together",
      });
    }
  });

export const configSchema = refined(true);

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads and validates the environment once. Never echoes a value back (some are secrets). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { requireMasterKey?: boolean } = {}): Config {
  const parsed = (opts.requireMasterKey === false ? refined(false) : configSchema).safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  return parsed.data;
}
