/**
 * Lower-case [a-z0-9_] version of a definition name for use inside generated user names, at
 * most `max` characters, never ending in `_` ("role" when nothing usable is left).
 */
export function nameSlug(roleName: string, max = 24): string {
  const s = roleName.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, Math.max(1, max));
  return s.replace(/_+$/, "") || "role".slice(0, Math.max(1, max));
}
