/**
 * Which MySQL/MariaDB failures are worth retrying: the server is going away or busy (too many
 * connections, shutdown, network read/write errors, a killed connection), lock wait timeouts,
 * deadlocks and statement timeouts. Every other server error (syntax, access denied, unknown
 * database, CREATE USER on an existing user) is permanent. Client-side failures without a
 * server error number (connection refused, lost connection, handshake timeout) are retried.
 */
const RETRYABLE_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1152, // ER_ABORTING_CONNECTION
  1158, 1159, 1160, 1161, // network read/write errors
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1317, // ER_QUERY_INTERRUPTED
  1689, // ER_LOCK_ABORTED
  1927, // MariaDB: connection was killed
  1969, // MariaDB: max_statement_time exceeded
  3024, // MySQL: max_execution_time exceeded
  3058, // ER_USER_LOCK_DEADLOCK
]);

/** A server error: MySQL's positive error number and SQLSTATE (Node's network errors have negative errnos). */
function serverErrno(e: { errno?: unknown; sqlState?: unknown } | null): number | undefined {
  return e && typeof e.errno === "number" && e.errno > 0 && typeof e.sqlState === "string" ? e.errno : undefined;
}

export function classifyMysqlError(err: unknown): "retryable" | "permanent" {
  const e = err as { errno?: unknown; sqlState?: unknown; retryable?: unknown } | null;
  if (e && typeof e.retryable === "boolean") return e.retryable ? "retryable" : "permanent";
  const errno = serverErrno(e);
  if (errno === undefined) return "retryable"; // refused, reset, lost, timed out, pool closed: the lease layer caps attempts
  if (RETRYABLE_ERRNOS.has(errno)) return "retryable";
  const state = e?.sqlState as string;
  return state.startsWith("08") || state === "40001" ? "retryable" : "permanent";
}
