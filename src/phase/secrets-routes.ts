import type { FastifyRequest } from "fastify";
import type { EnvironmentRecord } from "../apps/repository.js";
import { ENV_CONTEXT_REQUIRED } from "../auth/environment-context.js";
import { phaseAuthenticate, principalOf } from "../auth/hooks.js";
import type { Container } from "../container.js";
import { ForbiddenError } from "../errors.js";
import { requestMeta } from "../http/request-meta.js";
import type { App } from "../http/types.js";
import type { Caller } from "../secrets/types.js";
import { jsonObjectBody } from "./body.js";
import { dynamicSecretsForListing } from "./dynamic-leasing.js";
import { otherMethodsDocs, phaseDocs, SECRETS } from "./openapi.js";
import { parseCreateBody, parseDeleteBody, parseListQuery, parseUpdateBody } from "./secrets-input.js";
import { toPhaseSecret } from "./secrets-wire.js";

/** Phase mounts its public API at the root and under /public, each also behind /service. */
export const PHASE_PREFIXES = ["", "/public", "/service", "/service/public"] as const;

/** Phase's secrets view maps these to read/create/update/delete; any other method is a 403 after authentication. */
const SUPPORTED = new Set(["GET", "POST", "PUT", "DELETE"]);

/** The environment the authentication hook resolved, or Phase's 403 when the query named none. */
function environmentOf(req: FastifyRequest): EnvironmentRecord {
  const ctx = req.envContext;
  if (ctx?.mode !== "environment") throw new ForbiddenError(ENV_CONTEXT_REQUIRED);
  return ctx.environment;
}

/**
 * GET/POST/PUT/DELETE /v1/secrets/ (trailing slash required). The onRequest hook authenticates
 * with Phase's header rules and resolves + access-checks the environment; handlers validate, call
 * one service method and shape Phase's wire format.
 */
export function registerSecretsRoutes(scope: App, c: Container): void {
  const onRequest = phaseAuthenticate(c.authenticator, c.contexts);
  const caller = (req: FastifyRequest): Caller => ({ principal: principalOf(req), meta: requestMeta(req, c.config.TRUST_PROXY) });
  const query = (req: FastifyRequest) => req.query as Record<string, unknown>;

  for (const prefix of PHASE_PREFIXES) {
    const path = "/v1/secrets/";
    const url = `${prefix}${path}`;

    scope.get(url, { onRequest, exposeHeadRoute: false, ...phaseDocs(prefix, path, SECRETS.list) }, async (req) => {
      const env = environmentOf(req);
      const q = parseListQuery(query(req));
      const who = caller(req);
      const secrets = (await c.secretService.list(who, env, q)).map(toPhaseSecret);
      if (!q.dynamic) return secrets;
      // Phase appends the dynamic secrets (filtered by path only), each with a fresh lease if asked.
      const lease = { ...who, environmentId: env.id, ttl: q.leaseTtl, log: req.log };
      return [...secrets, ...(await dynamicSecretsForListing(c, lease, { path: q.path, lease: q.lease }))];
    });

    scope.post(url, { onRequest, ...phaseDocs(prefix, path, SECRETS.create) }, async (req) => {
      const env = environmentOf(req);
      const inputs = parseCreateBody(jsonObjectBody(req));
      return (await c.secretService.create(caller(req), env, inputs)).map(toPhaseSecret);
    });

    scope.put(url, { onRequest, ...phaseDocs(prefix, path, SECRETS.update) }, async (req) => {
      const env = environmentOf(req);
      const inputs = parseUpdateBody(jsonObjectBody(req));
      return (await c.secretService.update(caller(req), env, inputs)).map(toPhaseSecret);
    });

    scope.delete(url, { onRequest, ...phaseDocs(prefix, path, SECRETS.remove) }, async (req) => {
      const env = environmentOf(req);
      const ids = parseDeleteBody(jsonObjectBody(req));
      const count = await c.secretService.remove(caller(req), env, ids);
      return { message: `Deleted ${count} secret${count === 1 ? "" : "s"}` };
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
}
