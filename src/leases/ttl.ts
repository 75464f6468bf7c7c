import { LeaseMessages, TtlError } from "./errors.js";

export const MIN_TTL_SECONDS = 60;

/** Phase's create rule: `ttl or default_ttl` (0 or missing means the default), then max, then min. */
export function leaseTtl(requested: number | null | undefined, def: { defaultTtl: number; maxTtl: number }): number {
  const ttl = requested || def.defaultTtl;
  if (!Number.isInteger(ttl)) throw new TtlError("ttl must be a valid integer (seconds)");
  if (ttl > def.maxTtl) throw new TtlError(LeaseMessages.ttlExceedsMax);
  if (ttl < MIN_TTL_SECONDS) throw new TtlError(LeaseMessages.ttlTooShort);
  return ttl;
}

/**
 * Phase's renewal rule: the expiry moves by `ttl` from the current expiry and the cumulative ttl
 * grows by it, so a lease never lives longer than max_ttl in total. Checks in Phase's order: the
 * cumulative total, then expiry (Phase's check of `ttl` alone against max_ttl comes between them
 * but cannot fire: a lease's ttl is at least 60 s, so the total check has refused any such ttl).
 * Non-positive increments are refused first (Phase accepts them and shortens the lease).
 */
export function checkRenewal(lease: { ttlSeconds: number; expiresAt: Date }, ttl: number, maxTtl: number, now: Date): void {
  if (!Number.isInteger(ttl) || ttl <= 0) throw new TtlError(LeaseMessages.renewalTtlPositive);
  if (lease.ttlSeconds + ttl > maxTtl) {
    throw new TtlError(LeaseMessages.renewalExceedsMax(Math.max(0, maxTtl - lease.ttlSeconds)));
  }
  if (lease.expiresAt.getTime() <= now.getTime()) throw new TtlError(LeaseMessages.expired);
}
