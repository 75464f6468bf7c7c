import { z } from "zod";
import { definitionFields } from "../dynamic/service.js";
import { keyMapInputSchema } from "../dynamic/key-map.js";
import { SECRET_TYPES } from "../secrets/types.js";

/**
 * Phase's wire format as zod schemas, for the OpenAPI document only. Phase's routes validate by
 * hand (secrets-input.ts, dynamic-input.ts) to keep Phase's exact messages and order, and build
 * their replies field by field (secrets-wire.ts, dynamic-wire.ts); test/http/openapi.test.ts
 * checks real replies against the response schemas here. Definition bodies reuse the definition
 * service's own field schemas, under their wire names.
 */

const uuid = z.string().describe("UUID");
const timestamp = z.string().describe("UTC, e.g. `2025-01-31T12:00:00.123000Z`");
const duration = z.string().describe("Django's duration string: `HH:MM:SS`, `D HH:MM:SS` from one day up");
const flag = (what: string) => z.boolean().optional().describe(`${what} Any value but \`false\` counts as true.`);

export const errorBody = z.object({ error: z.string() });
export const messageBody = z.object({ message: z.string() });

/** The environment, named by the query (camelCase spellings such as `appId` work too). */
const environmentQuery = {
  app_id: uuid.describe("The app's id"),
  env: z.string().describe("The environment's name (any case) or id, e.g. `development`"),
};

// ---- /v1/secrets/ ---------------------------------------------------------------------------
const secretType = z.enum(SECRET_TYPES as [string, ...string[]]);

export const phaseSecret = z.object({
  id: uuid,
  key: z.string(),
  value: z.string(),
  comment: z.string(),
  tags: z.array(z.string()),
  override: z
    .object({ id: uuid, value: z.string(), isActive: z.boolean(), createdAt: timestamp, updatedAt: timestamp })
    .nullable()
    .describe("The caller's personal override (user tokens only)"),
  type: secretType,
  lifecycle: z.literal("static"),
  path: z.string(),
  keyDigest: z.string(),
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
  environment: uuid,
  folder: uuid.nullable(),
});

export const secretsQuery = z.object({
  ...environmentQuery,
  path: z.string().optional().describe("Only secrets at this path, e.g. `/backend`"),
  key: z.string().optional().describe("Only the secret with this key"),
  tags: z.string().optional().describe("Comma-separated tag names: secrets with any of them"),
  dynamic: flag("Also list the environment's dynamic secrets."),
  lease: flag("With `dynamic`: take a lease of each dynamic secret (credentials in the reply)."),
  lease_ttl: z.number().int().optional().describe("With `lease`: the leases' TTL in seconds"),
});
export const environmentOnlyQuery = z.object(environmentQuery);

const override = z.object({ value: z.string(), isActive: z.boolean().optional() }).nullable().optional();
const secretFields = {
  comment: z.string().nullable().optional(),
  path: z.string().nullable().optional().describe("Folder path; `/` when omitted"),
  tags: z.array(z.string()).optional(),
  type: secretType.nullable().optional().describe("`secret` when omitted"),
  override: override.describe("A personal override (user tokens only)"),
};
export const createSecretsBody = z.object({
  secrets: z.array(z.object({ key: z.string().min(1), value: z.string(), ...secretFields })).min(1),
});
export const updateSecretsBody = z.object({
  secrets: z
    .array(z.object({ id: uuid, key: z.string().min(1).optional(), value: z.string().optional(), ...secretFields }))
    .min(1),
});
export const deleteSecretsBody = z.object({ secrets: z.array(uuid).min(1).describe("Ids of the secrets to delete") });

// ---- /v1/secrets/dynamic/ and its leases --------------------------------------------------
const role = z.object({ id: z.string(), name: z.string() }).nullable();
const owner = z
  .union([
    z.object({
      type: z.literal("organisation_member"),
      data: z.object({
        id: uuid,
        username: z.string().nullable(),
        fullName: z.string().nullable(),
        email: z.string(),
        role,
        createdAt: timestamp.nullable(),
        updatedAt: timestamp.nullable(),
      }),
    }),
    z.object({ type: z.literal("service_account"), data: z.object({ id: uuid, name: z.string(), role }) }),
  ])
  .nullable();

export const phaseLease = z.object({
  id: uuid,
  name: z.string(),
  description: z.string(),
  secret: uuid.nullable(),
  ttl: duration,
  status: z
    .enum(["active", "revoked", "expired", "creating", "revoking", "revoke_failed", "create_failed"])
    .describe("Phase's `active`, `revoked`, `expired`, and our transitional and failure states"),
  owner,
  credentials: z.array(z.object({ key: z.string(), value: z.string() })).describe("Only in the reply that created the lease"),
  createdAt: timestamp,
  renewedAt: timestamp.nullable(),
  expiresAt: timestamp,
  revokedAt: timestamp.nullable(),
  deletedAt: z.null(),
});

export const phaseDynamicSecret = z.object({
  id: uuid,
  name: z.string(),
  type: z.literal("dynamic"),
  description: z.string(),
  environment: uuid,
  folder: uuid.nullable(),
  path: z.string(),
  defaultTtl: duration,
  maxTtl: duration,
  provider: z.string().describe("`postgresql` or `aws`"),
  keyMap: z.array(z.object({ id: z.string(), keyName: z.string(), keyDigest: z.string(), masked: z.boolean() })),
  createdAt: timestamp,
  updatedAt: timestamp,
  deletedAt: timestamp.nullable(),
  lease: phaseLease.nullable().describe("A lease taken for this request (`lease=true`), with its credentials"),
});

export const dynamicListQuery = z.object({
  ...environmentQuery,
  path: z.string().optional(),
  id: uuid.optional(),
  name: z.string().optional(),
  lease: flag("Take a lease of each listed definition (credentials in the reply)."),
  ttl: z.number().int().optional().describe("With `lease`: the leases' TTL in seconds (default: each definition's)"),
});
export const definitionQuery = z.object({ ...environmentQuery, id: uuid.optional().describe("The definition (or `id` in the body)") });

const definitionBody = {
  name: definitionFields.name,
  description: definitionFields.description.optional(),
  config: definitionFields.config.describe("The provider's configuration (root credentials: never returned)"),
  key_map: keyMapInputSchema.optional().describe("Rename or mask the provider's outputs by id"),
  default_ttl: definitionFields.defaultTtl.describe("Seconds"),
  max_ttl: definitionFields.maxTtl.describe("Seconds"),
  verify_connection: definitionFields.verifyConnection.optional().describe("Check the config reaches the target first (default true)"),
};
export const createDefinitionBody = z.object({
  ...definitionBody,
  path: z.string().optional().describe("Folder path; `/` when omitted (fixed at creation)"),
  provider: z.string().describe("`postgresql` or `aws` (fixed at creation)"),
});
export const updateDefinitionBody = z.object(definitionBody).partial().extend({ id: uuid.optional() });

export const leaseListQuery = z.object({ secret_id: uuid.describe("The dynamic secret whose leases to list") });
export const revokeLeaseQuery = z.object({
  ...environmentQuery,
  lease_id: uuid.optional().describe("The lease (or `lease_id` in the body)"),
  force: flag("Owner/Admin only: mark the lease revoked without calling the provider."),
});
export const renewLeaseBody = z.object({ lease_id: uuid, ttl: z.number().int().optional().describe("Seconds to add (default 3600)") });
export const revokeLeaseReply = z.object({ message: z.string(), warning: z.string().optional() });
