/**
 * Which Redis failures are worth retrying. A reply error is Redis refusing the command: permanent
 * (NOPERM, WRONGPASS, NOAUTH, a bad ACL rule), except the transient states LOADING (restarting
 * with a dataset), BUSY (a script running), TRYAGAIN, CLUSTERDOWN and MASTERDOWN. Anything else
 * (connection refused or closed, command timeout) is retried: the lease layer caps attempts.
 */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)\b/;

export function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === "ReplyError";
}

export function classifyRedisError(err: unknown): "retryable" | "permanent" {
  const e = err as { retryable?: unknown } | null;
  if (e && typeof e.retryable === "boolean") return e.retryable ? "retryable" : "permanent";
  if (isReplyError(err)) return TRANSIENT_REPLY.test(err.message) ? "retryable" : "permanent";
  return "retryable";
}
