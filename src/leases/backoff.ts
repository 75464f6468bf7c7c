/** Retry timing for failed revocations. `random` returns [0, 1); injectable for tests. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
  slowRetryMs: number;
  random?: () => number;
}

/**
 * Delay before the next attempt after `attempts` failures: exponential with full jitter, i.e.
 * uniform in [0, min(max, base * 2^(attempts-1))]. Full jitter spreads a burst of failures (a
 * target that went down under a backlog) instead of retrying them all in lockstep.
 */
export function backoffDelayMs(attempts: number, p: BackoffPolicy): number {
  const ceiling = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor((p.random ?? Math.random)() * ceiling);
}

/** The slow retry of a REVOKE_FAILED lease, with ±10% jitter so such leases do not all fire together. */
export function slowRetryDelayMs(p: BackoffPolicy): number {
  return Math.floor(p.slowRetryMs * (0.9 + 0.2 * (p.random ?? Math.random)()));
}
