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

const booleanFlag = z.preprocess(
  emptyToUndefined,
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .transform((v) => v === "true" || v === "1" || v === "yes")
    .default(false),
);

export const configSchema = z
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
    /** Audit writer: flush when this many events are buffered, or after the interval. */
    AUDIT_FLUSH_INTERVAL_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).default(250)),
    AUDIT_BATCH_SIZE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(10_000).default(500)),
    LEASEHOLD_REVOCATION_PAUSED: booleanFlag,
    /** Behind a reverse proxy: take the client IP from X-Real-IP / X-Forwarded-For for the audit trail. */
    TRUST_PROXY: booleanFlag,
  })
  .superRefine((c, ctx) => {
    if (c.DATABASE_URL && !c.LEASEHOLD_MASTER_KEY) {
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

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads and validates the environment once. Never echoes a value back (some are secrets). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  return parsed.data;
}
