import { z, type ZodType } from "zod";
import { SECURITY, TAGS, type RouteDocs } from "../http/openapi.js";
import * as s from "./openapi-schemas.js";

/** One of Phase's operations as the OpenAPI document shows it. */
interface PhaseOperation {
  tag: string;
  summary: string;
  description?: string;
  querystring?: ZodType;
  body?: ZodType;
  /** The success reply; the error replies are added (all `{"error": ...}`). */
  ok: [status: number, schema: ZodType];
}

const errors = { 400: s.errorBody, 401: s.errorBody, 403: s.errorBody, 404: s.errorBody };
const OTHER_METHODS = "Phase's reply to the methods it does not support (403, or DRF's 405 on leases): not operations";

/**
 * The `schema` and `config` route options documenting `op` for the URL `prefix + path`. The URL
 * without a prefix is the documented one; under /public, /service and /service/public it is an
 * alias. Phase's routes validate by hand, so the schemas are documentation only (RouteDocs.describe).
 */
export function phaseDocs(prefix: string, path: string, op: PhaseOperation) {
  const { tag, summary, description, querystring, body, ok } = op;
  const describe: RouteDocs["describe"] = { querystring, body, response: { [ok[0]]: ok[1], ...errors } };
  return {
    schema: { tags: [tag], summary, ...(description ? { description } : {}), security: SECURITY.phase },
    config: { openapi: prefix ? { aliasOf: path } : { describe } },
  };
}

/** Route options of the catch-all route answering the other methods. */
export const otherMethodsDocs = { config: { openapi: { hidden: OTHER_METHODS } } };

const phase = TAGS.phase;
const dynamic = TAGS.dynamic;
const BODY = "Phase reads the body as JSON whatever the Content-Type says.";

export const SECRETS = {
  list: {
    tag: phase,
    summary: "List an environment's secrets",
    description: "Decrypted secrets, filtered by path, key or tags. With `dynamic=true` the dynamic secrets follow.",
    querystring: s.secretsQuery,
    ok: [200, z.array(z.union([s.phaseSecret, s.phaseDynamicSecret]))],
  },
  create: {
    tag: phase,
    summary: "Create secrets",
    description: `All or nothing: one invalid or duplicate key and none are created. ${BODY}`,
    querystring: s.environmentOnlyQuery,
    body: s.createSecretsBody,
    ok: [200, z.array(s.phaseSecret)],
  },
  update: {
    tag: phase,
    summary: "Update secrets",
    description: `By id; omitted fields are unchanged, \`tags\` replaces the secret's tags. ${BODY}`,
    querystring: s.environmentOnlyQuery,
    body: s.updateSecretsBody,
    ok: [200, z.array(s.phaseSecret)],
  },
  remove: {
    tag: phase,
    summary: "Delete secrets",
    querystring: s.environmentOnlyQuery,
    body: s.deleteSecretsBody,
    ok: [200, s.messageBody],
  },
} satisfies Record<string, PhaseOperation>;

export const DYNAMIC = {
  list: {
    tag: dynamic,
    summary: "List dynamic secrets (optionally leasing them)",
    description: "Definitions without their config. With `lease=true` each gets a fresh lease with credentials. 404 when none match.",
    querystring: s.dynamicListQuery,
    ok: [200, z.array(s.phaseDynamicSecret)],
  },
  create: {
    tag: dynamic,
    summary: "Define a dynamic secret (Owner/Admin)",
    description: "Ours: Phase defines them over GraphQL only. The config is encrypted at rest and never returned.",
    querystring: s.environmentOnlyQuery,
    body: s.createDefinitionBody,
    ok: [201, s.phaseDynamicSecret],
  },
  update: {
    tag: dynamic,
    summary: "Update a dynamic secret (Owner/Admin)",
    description: "Omitted config fields keep their stored values; path and provider cannot change.",
    querystring: s.definitionQuery,
    body: s.updateDefinitionBody,
    ok: [200, s.phaseDynamicSecret],
  },
  remove: {
    tag: dynamic,
    summary: "Delete a dynamic secret (Owner/Admin)",
    description: "Every live lease is queued for revocation.",
    querystring: s.definitionQuery,
    ok: [200, s.messageBody],
  },
} satisfies Record<string, PhaseOperation>;

export const LEASES = {
  list: {
    tag: dynamic,
    summary: "List a dynamic secret's leases",
    description: "Newest first, never with credentials.",
    querystring: s.leaseListQuery,
    ok: [200, z.array(s.phaseLease)],
  },
  renew: {
    tag: dynamic,
    summary: "Renew a lease",
    description: "Expiry and TTL grow by `ttl` seconds, within the definition's max TTL.",
    querystring: s.environmentOnlyQuery,
    body: s.renewLeaseBody,
    ok: [200, s.messageBody],
  },
  revoke: {
    tag: dynamic,
    summary: "Revoke a lease",
    description: "Revokes the credentials now; a failed attempt is retried by the reaper. `lease_id` may also be sent in a JSON body.",
    querystring: s.revokeLeaseQuery,
    ok: [200, s.revokeLeaseReply],
  },
} satisfies Record<string, PhaseOperation>;
