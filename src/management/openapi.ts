import type { RouteOptions } from "fastify";
import { SECURITY, TAGS } from "../http/openapi.js";

/** One line per operation, by method and documented URL (test/http/openapi.test.ts requires one for each). */
const SUMMARIES: Record<string, string> = {
  "POST /v1/apps/": "Create an app (with its environments)",
  "GET /v1/apps/": "List apps",
  "GET /v1/apps/:id/": "Get an app",
  "DELETE /v1/apps/:id/": "Delete an app, its environments, secrets and grants",
  "POST /v1/apps/:id/environments/": "Add an environment to an app",
  "POST /v1/users/": "Create a user",
  "GET /v1/users/": "List users",
  "GET /v1/users/:id/": "Get a user",
  "POST /v1/service-accounts/": "Create a service account",
  "GET /v1/service-accounts/": "List service accounts",
  "GET /v1/service-accounts/:id/": "Get a service account",
  "GET /v1/audit/events/": "Read the audit log (secret, management and lease events; filters, cursor pagination)",
  "POST /v1/policies/": "Create an access policy",
  "GET /v1/policies/": "List access policies",
  "GET /v1/policies/:name/": "Get an access policy",
  "PUT /v1/policies/:name/": "Replace an access policy's rules",
  "DELETE /v1/policies/:name/": "Delete an access policy and its bindings",
  "GET /v1/policies/:name/bindings/": "List the accounts a policy is bound to",
  "POST /v1/policies/:name/bindings/": "Bind a policy to a user or service account",
  "DELETE /v1/policies/:name/bindings/": "Unbind a policy from a user or service account",
  ...accountSummaries("/v1/users/:id", "user"),
  ...accountSummaries("/v1/service-accounts/:id", "service account"),
};

function accountSummaries(base: string, noun: string): Record<string, string> {
  return {
    [`GET ${base}/access/`]: `List the ${noun}'s environment access`,
    [`POST ${base}/access/`]: `Grant the ${noun} access to environments`,
    [`DELETE ${base}/access/`]: `Revoke the ${noun}'s access to environments`,
    [`GET ${base}/tokens/`]: `List the ${noun}'s tokens`,
    [`POST ${base}/tokens/`]: `Issue a token for the ${noun} (shown once)`,
    [`DELETE ${base}/tokens/:token_id/`]: `Revoke one of the ${noun}'s tokens`,
  };
}

/**
 * onRoute hook of the management scope: every route is tagged Management, needs an Owner or Admin
 * user token (the scope's requireAdmin hook) and gets its summary; each URL without its trailing
 * slash (see slash.ts) is documented as an alias of the one with it.
 */
export function documentManagementRoute(route: RouteOptions): void {
  const summary = SUMMARIES[`${String(route.method)} ${route.url}`];
  route.schema = { tags: [TAGS.management], security: SECURITY.user, ...(summary ? { summary } : {}), ...route.schema };
  if (!route.url.endsWith("/")) route.config = { ...route.config, openapi: { aliasOf: `${route.url}/`, ...route.config?.openapi } };
}
