/**
 * Phase 404s a URL without its trailing slash; our own routes are friendlier: each one is
 * registered with its trailing slash (the documented form) and without it, with the same
 * handler. Phase's /v1/secrets* routes keep Phase's strict rule.
 */
export function withAndWithoutSlash(url: string): [string, string] {
  if (!url.endsWith("/")) throw new Error(`management routes are declared with a trailing slash: ${url}`);
  return [url, url.slice(0, -1)];
}
