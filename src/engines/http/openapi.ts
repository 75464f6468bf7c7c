import type { RouteOptions } from "fastify";
import { SECURITY, TAGS } from "../../http/openapi.js";

/** One line per operation of the /v1/dynamic/ surface, by method and documented (slash-less) URL. */
const SUMMARIES: Record<string, string> = {
  "POST /v1/dynamic/engines": "Create an engine (connection tested; root credentials sealed, never returned)",
  "GET /v1/dynamic/engines": "List engines",
  "GET /v1/dynamic/engines/:engine": "Get an engine",
  "PUT /v1/dynamic/engines/:engine": "Replace an engine's settings",
  "PATCH /v1/dynamic/engines/:engine": "Change some of an engine's settings",
  "DELETE /v1/dynamic/engines/:engine": "Delete an engine after revoking its leases",
  "POST /v1/dynamic/engines/:engine/rotate-root": "Rotate the engine's root password on the target (crash-safe)",
  "POST /v1/dynamic/engines/:engine/roles": "Create a role (creation/revocation statements or IAM settings, TTLs)",
  "GET /v1/dynamic/engines/:engine/roles": "List an engine's roles",
  "GET /v1/dynamic/engines/:engine/roles/:role": "Get a role",
  "DELETE /v1/dynamic/engines/:engine/roles/:role": "Delete a role",
  "POST /v1/dynamic/engines/:engine/creds/:role": "Mint credentials from a role: a new lease",
  "GET /v1/dynamic/leases": "List leases (filters: engine, role, status)",
  "POST /v1/dynamic/leases/revoke-prefix": "Revoke every lease of an engine whose id starts with a prefix",
  "GET /v1/dynamic/leases/:id": "Get a lease",
  "DELETE /v1/dynamic/leases/:id": "Revoke a lease",
  "POST /v1/dynamic/leases/:id/renew": "Renew a lease (increment from now, capped at the role's max TTL)",
};

/**
 * onRoute hook of the /v1/dynamic/ scope: tagged Dynamic secrets, any of our token forms, its
 * summary; each URL with a trailing slash is documented as an alias of the one without.
 */
export function documentEngineRoute(route: RouteOptions): void {
  const canonical = route.url.endsWith("/") ? route.url.slice(0, -1) : route.url;
  const summary = SUMMARIES[`${String(route.method)} ${canonical}`];
  route.schema = { tags: [TAGS.dynamic], security: [...SECURITY.phase, { BearerToken: [] }], ...(summary ? { summary } : {}), ...route.schema };
  if (canonical !== route.url) route.config = { ...route.config, openapi: { aliasOf: canonical, ...route.config?.openapi } };
}
