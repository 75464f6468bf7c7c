import { ProviderError } from "./provider.js";
import { scrub } from "./scrub.js";

/**
 * AWS error codes by retry class. Codes come from the Query-protocol <Code> (the SDK's `Code`) or
 * the exception name without its "Exception" suffix. DeleteConflict is retryable: the next revoke
 * attempt lists and removes again. Unknown codes: 5xx and network errors retry, other 4xx do not.
 */
const RETRYABLE = new Set([
  "Throttling",
  "RequestLimitExceeded",
  "TooManyRequests",
  "ServiceUnavailable",
  "ServiceFailure",
  "InternalFailure",
  "InternalError",
  "RequestTimeout",
  "TimeoutError",
  "ConcurrentModification",
  "DeleteConflict",
  "ExpiredToken",
  "IDPCommunicationError",
  "NotYetVisible",
]);
const NETWORK = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|ECONNABORTED)$/;

export function awsErrorCode(err: unknown): string | undefined {
  const e = err as { Code?: unknown; code?: unknown; name?: unknown } | null;
  if (!e || typeof e !== "object") return undefined;
  if (typeof e.Code === "string") return e.Code;
  if (typeof e.code === "string") return e.code;
  if (typeof e.name === "string" && e.name !== "Error") return e.name.replace(/Exception$/, "");
  return undefined;
}

export function classifyAwsError(err: unknown): "retryable" | "permanent" {
  if (err instanceof ProviderError) return err.retryable ? "retryable" : "permanent";
  const code = awsErrorCode(err);
  if (code && (RETRYABLE.has(code) || NETWORK.test(code))) return "retryable";
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  if (typeof status === "number") return status >= 500 || status === 429 ? "retryable" : "permanent";
  if (code === "AccessDenied" || code === "InvalidInput" || code === "MalformedPolicyDocument") return "permanent";
  return "retryable"; // no status, unknown code: a transport failure; the lease layer caps attempts
}

/** A scrubbed ProviderError naming the IAM/STS action that failed. */
export function awsProviderError(action: string, err: unknown, secrets: (string | undefined)[], retryable?: boolean): ProviderError {
  if (err instanceof ProviderError) return err;
  const code = awsErrorCode(err) ?? "Error";
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(
    scrub(`AWS ${action} failed: ${code}: ${message}`, secrets),
    retryable ?? classifyAwsError(err) === "retryable",
    code,
  );
}
