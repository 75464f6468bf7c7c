import pino, { type Logger, type LoggerOptions } from "pino";

/**
 * Secret values, credentials and tokens must never reach a log; test/security/ greps a full run's
 * logs for them. Two layers:
 *
 * 1. SENSITIVE_KEYS: any property with one of these names (case-insensitive), at any depth of the
 *    plain objects and arrays passed to a log call, is replaced by "[REDACTED]" before the line is
 *    written (`{ secrets: [{ value }] }`, `{ issued: { token } }`...). Class instances (requests,
 *    errors, buffers) are left to their serializers.
 * 2. REDACT_PATHS: fixed paths pino blanks in the serialized line, for what serializers produce
 *    (request headers, should a serializer ever include them).
 *
 * Secret *keys* (names like DB_PASSWORD) and ids are not secret and stay readable.
 */
export const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "token",
  "phase_token",
  "access_token",
  "refresh_token",
  "session_token",
  "sessiontoken",
  "password",
  "value",
  "comment",
  "secret_access_key",
  "secretaccesskey",
  "masterkey",
  "master_key",
  "leasehold_master_key",
  "leasehold_bootstrap_token",
  "database_url",
  "redis_url",
  "metrics_token",
  "body",
]);

export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers[\"proxy-authorization\"]",
  "req.headers.cookie",
  "req.headers[\"x-api-key\"]",
  "res.headers[\"set-cookie\"]",
];

const CENSOR = "[REDACTED]";
const MAX_DEPTH = 8;

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A copy of `v` with sensitive keys censored; untouched parts (and clean inputs) are shared, never mutated. */
export function scrub(v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== "object" || depth > MAX_DEPTH) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const next = scrub(v[i], depth + 1);
      if (next !== v[i]) (out ??= v.slice())[i] = next;
    }
    return out ?? v;
  }
  if (!isPlain(v)) return v;
  const obj = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(obj)) {
    const cur = obj[k];
    const next = SENSITIVE_KEYS.has(k.toLowerCase()) ? (cur === undefined || cur === null ? cur : CENSOR) : scrub(cur, depth + 1);
    if (next !== cur) (out ??= { ...obj })[k] = next;
  }
  return out ?? v;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
    base: { service: "leasehold" },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

export type { Logger };
