import type { RouteOptions } from "fastify";
import { z, type ZodType } from "zod";
import { SECURITY, TAGS } from "../../http/openapi.js";
import { scramIterations } from "../../providers/postgresql-config.js";

const duration = z.string().describe("A duration: 30m, 1h, 24h, 90d (or seconds as a number)");
const statements = z.union([z.string(), z.array(z.string())]);
const engineConfig = z.object({
  plugin: z.enum(["postgresql", "mysql", "redis", "aws"]).optional().describe("Required for database engines"),
  connection_url: z.string().optional().describe("With {{username}} and {{password}} placeholders (database engines)"),
  root_credentials: z
    .union([z.object({ username: z.string(), password: z.string() }), z.object({ access_key_id: z.string(), secret_access_key: z.string() })])
    .optional()
    .describe("Sealed at rest, never returned"),
  root_credentials_path: z.string().optional().describe("A stored secret holding the root credentials as JSON: app/env/path/KEY or ${app::env./path/KEY}"),
  region: z.string().optional(),
  endpoint: z.string().optional(),
  role_arn: z.string().optional(),
  external_id: z.string().optional(),
});
const engineBody = z.object({
  name: z.string(),
  type: z.enum(["database", "aws"]),
  config: engineConfig,
  default_ttl: duration.optional(),
  max_ttl: duration.optional(),
});

/**
 * The request bodies, for the document only: these routes validate by hand so that every error
 * carries its code (`invalid_config`, `ttl_exceeds_max`, ...).
 */
const BODIES: Record<string, ZodType> = {
  "POST /v1/dynamic/engines": engineBody,
  "PUT /v1/dynamic/engines/:engine": engineBody,
  "PATCH /v1/dynamic/engines/:engine": engineBody.partial(),
  "POST /v1/dynamic/engines/:engine/roles": z.object({
    name: z.string(),
    creation_statements: statements.optional().describe("Database engines"),
    revocation_statements: statements.optional(),
    renew_statements: statements.optional(),
    scram_iterations: scramIterations.optional().describe("PostgreSQL roles: PBKDF2 iterations of the role's SCRAM verifier"),
    credential_type: z.literal("iam_user").optional().describe("AWS engines"),
    policy_document: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    policy_arns: z.array(z.string()).optional(),
    groups: z.array(z.string()).optional(),
    default_ttl: duration.optional(),
    max_ttl: duration.optional(),
  }),
  "POST /v1/dynamic/engines/:engine/creds/:role": z.object({ ttl: duration.optional(), metadata: z.record(z.string(), z.unknown()).optional() }),
  "POST /v1/dynamic/leases/:id/renew": z.object({ increment: duration.optional() }),
  "POST /v1/dynamic/leases/revoke-prefix": z.object({ prefix: z.string(), engine: z.string(), role: z.string().optional() }),
};

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
  const key = `${String(route.method)} ${canonical}`;
  const summary = SUMMARIES[key];
  route.schema = { tags: [TAGS.dynamic], security: [...SECURITY.phase, { BearerToken: [] }], ...(summary ? { summary } : {}), ...route.schema };
  if (canonical !== route.url) route.config = { ...route.config, openapi: { aliasOf: canonical, ...route.config?.openapi } };
  else if (BODIES[key]) route.config = { ...route.config, openapi: { describe: { body: BODIES[key] }, ...route.config?.openapi } };
}
