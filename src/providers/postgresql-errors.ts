/**
 * Which PostgreSQL failures are worth retrying. SQLSTATE classes: 08 connection, 53 insufficient
 * resources, 57P operator intervention (shutdown, cannot connect now); plus serialization
 * failure, deadlock, lock timeout, statement timeout, and GRANT's "tuple concurrently updated".
 * Everything else with a SQLSTATE (syntax, permissions, duplicate role, auth) is permanent.
 */
const RETRYABLE_SQLSTATES = new Set(["40001", "40P01", "55P03", "55006", "57014", "25P03", "58000"]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
]);
const RETRYABLE_MESSAGES = /timeout|Connection terminated|not queryable|connection error/i;

export function isSqlState(code: unknown): code is string {
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

export function classifyPostgresError(err: unknown): "retryable" | "permanent" {
  const e = err as { code?: unknown; message?: unknown; retryable?: unknown } | null;
  if (e && typeof e.retryable === "boolean") return e.retryable ? "retryable" : "permanent";
  const code = e?.code;
  const message = typeof e?.message === "string" ? e.message : "";
  if (isSqlState(code)) {
    if (RETRYABLE_SQLSTATES.has(code)) return "retryable";
    if (code.startsWith("08") || code.startsWith("53") || code.startsWith("57P")) return "retryable";
    if (code === "XX000" && /tuple concurrently (updated|deleted)/.test(message)) return "retryable";
    return "permanent";
  }
  if (typeof code === "string" && NETWORK_CODES.has(code)) return "retryable";
  if (RETRYABLE_MESSAGES.test(message)) return "retryable";
  // Unknown failures (no SQLSTATE, no network code) are retried: the lease layer caps attempts.
  return "retryable";
}
