import type { FastifyRequest } from "fastify";
import type { EnvironmentRecord } from "../apps/repository.js";
import { phaseAuthenticate, principalOf } from "../auth/hooks.js";
import type { Container } from "../container.js";
import { ForbiddenError, NotFoundError } from "../errors.js";
import { requestMeta } from "../http/request-meta.js";
import type { App } from "../http/types.js";
import { jsonObjectBody } from "./body.js";
import {
  definitionIdOf,
  dynamicTtlOf,
  environmentOf,
  optionalJsonObject,
  parseDefinitionCreate,
  parseDefinitionUpdate,
  parseDynamicListQuery,
  queryOf,
  withWireFieldNames,
} from "./dynamic-input.js";
import { registerLeaseRoutes } from "./dynamic-lease-routes.js";
import { leaseInOrder, type LeaseRequest } from "./dynamic-leasing.js";
import { toPhaseDynamicSecret } from "./dynamic-wire.js";
import { DYNAMIC, otherMethodsDocs, phaseDocs } from "./openapi.js";
import { PHASE_PREFIXES } from "./secrets-routes.js";

const SUPPORTED = new Set(["GET", "POST", "PUT", "DELETE"]);

/**
 * /v1/secrets/dynamic/ under Phase's four prefixes (trailing slash required):
 * - GET (Phase): the environment's definitions, filtered by path/id/name, each with a fresh lease
 *   when `lease` is set; 404 "No dynamic secrets found" when none match.
 * - POST, PUT (by `id`), DELETE (by `id`): ours, for Owner/Admin users (Phase creates definitions
 *   over GraphQL only). POST answers 201 like our other create endpoints (Phase's clients never
 *   call it); PUT 200; DELETE 200 `{"message"}` after queueing every live lease for revocation
 *   (the reaper revokes them within its next pass; they end `expired`, as in Phase).
 * Any other method is Phase's 403 "Unsupported HTTP method: X" after authentication. Then the
 * lease routes (/v1/secrets/dynamic/leases/).
 */
export function registerDynamicRoutes(scope: App, c: Container): void {
  const onRequest = phaseAuthenticate(c.authenticator, c.contexts);
  const meta = (req: FastifyRequest) => requestMeta(req, c.config.TRUST_PROXY);

  /** Definition changes are audited like management actions (never with their config). */
  const audit = (req: FastifyRequest, env: EnvironmentRecord, eventType: string, def: { id: string; name: string; path: string; provider: string }) =>
    c.audit.record([{
      eventType, occurredAt: c.clock.now(), principal: principalOf(req), ...meta(req), appId: env.appId, environmentId: env.id,
      path: def.path, metadata: { dynamic_secret_id: def.id, name: def.name, provider: def.provider },
    }]);

  /** A definition of this environment (another environment's id is "not found" here). */
  async function definitionIn(env: EnvironmentRecord, id: string) {
    const def = await c.dynamicSecrets.get(id);
    if (def.environmentId !== env.id) throw new NotFoundError("Dynamic secret not found");
    return def;
  }

  for (const prefix of PHASE_PREFIXES) {
    const path = "/v1/secrets/dynamic/";
    const url = `${prefix}${path}`;

    scope.get(url, { onRequest, exposeHeadRoute: false, ...phaseDocs(prefix, path, DYNAMIC.list) }, async (req) => {
      const env = environmentOf(req);
      const query = queryOf(req);
      const q = parseDynamicListQuery(query);
      // Each listed definition opens for a lease only when asked to (from the row already read).
      const defs = await c.dynamicSecrets.listForLeasing(env.id, { path: q.path, id: q.id, name: q.name });
      if (defs.length === 0) throw new NotFoundError("No dynamic secrets found");
      const ttl = dynamicTtlOf(query);
      if (!q.lease) return defs.map((d) => toPhaseDynamicSecret(d.view));
      const r: LeaseRequest = { principal: principalOf(req), meta: meta(req), environmentId: env.id, ttl, log: req.log };
      return leaseInOrder(c, r, defs);
    });

    scope.post(url, { onRequest, ...phaseDocs(prefix, path, DYNAMIC.create) }, async (req, reply) => {
      const env = environmentOf(req);
      const input = parseDefinitionCreate(jsonObjectBody(req), env.id);
      const def = await c.dynamicSecrets.create(principalOf(req), input).catch((e: unknown) => Promise.reject(withWireFieldNames(e)));
      audit(req, env, "dynamic_secret.create", def);
      return reply.code(201).send(toPhaseDynamicSecret(def));
    });

    scope.put(url, { onRequest, ...phaseDocs(prefix, path, DYNAMIC.update) }, async (req) => {
      const env = environmentOf(req);
      const body = jsonObjectBody(req);
      const id = definitionIdOf(queryOf(req), body);
      const input = parseDefinitionUpdate(body);
      await definitionIn(env, id);
      const def = await c.dynamicSecrets.update(principalOf(req), id, input).catch((e: unknown) => Promise.reject(withWireFieldNames(e)));
      audit(req, env, "dynamic_secret.update", def);
      return toPhaseDynamicSecret(def);
    });

    scope.delete(url, { onRequest, ...phaseDocs(prefix, path, DYNAMIC.remove) }, async (req) => {
      const env = environmentOf(req);
      const id = definitionIdOf(queryOf(req), optionalJsonObject(req));
      const def = await definitionIn(env, id);
      const principal = principalOf(req);
      const { revokingLeases: n } = await c.dynamicSecrets.delete(principal, id, { principal, ...meta(req) });
      audit(req, env, "dynamic_secret.delete", def);
      return { message: `Dynamic secret deleted; ${n} active lease${n === 1 ? " is" : "s are"} being revoked` };
    });

    scope.route({
      method: scope.supportedMethods.filter((m) => !SUPPORTED.has(m)),
      url,
      onRequest,
      ...otherMethodsDocs,
      handler: async (req) => {
        throw new ForbiddenError(`Unsupported HTTP method: ${req.method}`);
      },
    });
  }

  registerLeaseRoutes(scope, c);
}
