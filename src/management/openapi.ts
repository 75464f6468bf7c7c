import type { RouteOptions } from "fastify";
import { SECURITY, TAGS } from "../http/openapi.js";

/**
 * onRoute hook of the management scope: every route is tagged Management and needs an Owner or
 * Admin user token (the scope's requireAdmin hook), and each URL without its trailing slash (see
 * slash.ts) is documented as an alias of the one with it.
 */
export function documentManagementRoute(route: RouteOptions): void {
  route.schema = { tags: [TAGS.management], security: SECURITY.user, ...route.schema };
  if (!route.url.endsWith("/")) route.config = { ...route.config, openapi: { aliasOf: `${route.url}/`, ...route.config?.openapi } };
}
