/**
 * Phase runs djangorestframework-camel-case's middleware, which rewrites every query parameter
 * name to snake_case, so `appId`, `includeDynamic`, `leaseTtl` and `secretId` work like their
 * snake_case forms. Same regex idea: an upper-case letter (or digit run) starts a new word.
 */
export function toSnakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

export function snakeCaseQuery(query: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (query && typeof query === "object") {
    for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
      const key = toSnakeCase(k);
      if (!(key in out) || k === key) out[key] = v;
    }
  }
  return out;
}

/**
 * Phase's truthiness for flags like `dynamic` and `lease`: present with any value but "false".
 * A repeated flag counts by its last value, as Django's `request.GET.get` reads it.
 */
export function phaseFlag(v: unknown): boolean {
  if (v === undefined) return false;
  const s = Array.isArray(v) ? String(v[v.length - 1]) : String(v);
  return s.toLowerCase() !== "false";
}
