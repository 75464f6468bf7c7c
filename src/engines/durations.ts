/**
 * Durations on the /v1/dynamic/ surface, as the ScaiVault guide writes them: "30m", "1h", "24h",
 * "90d", combinations such as "1h30m", a bare number of seconds ("3600" or 3600). Results are
 * whole seconds.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds, or null when `v` is not a duration. Zero and negative values are left to callers. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === "number") return Number.isSafeInteger(v) ? v : null;
  if (typeof v !== "string") return null;
  const s = v.trim().toLowerCase();
  if (/^\d+$/.test(s)) return safe(Number(s));
  const m = DURATION.exec(s);
  if (!m || s === "") return null;
  const [, d, h, min, sec] = m;
  return safe(Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(sec ?? 0));
}

const safe = (n: number) => (Number.isSafeInteger(n) ? n : null);

/**
 * An exact form in one unit, days from a week up: 7200 → "2h", 5400 → "90m", 86400 → "24h",
 * 7776000 → "90d", 61 → "61s".
 */
export function formatDuration(seconds: number): string {
  if (seconds >= 7 * UNIT_SECONDS["d"]! && seconds % UNIT_SECONDS["d"]! === 0) return `${seconds / UNIT_SECONDS["d"]!}d`;
  for (const unit of ["h", "m"] as const) {
    const size = UNIT_SECONDS[unit]!;
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
