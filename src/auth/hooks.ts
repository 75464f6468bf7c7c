import type { FastifyRequest, onRequestHookHandler } from "fastify";
import type { Authenticator } from "./authenticator.js";
import { isUuid, type EnvironmentContext, type EnvironmentContextResolver } from "./environment-context.js";
import { parseAuthorization } from "./header.js";
import { isAdmin, type Principal } from "./principal.js";
import { ForbiddenError } from "../errors.js";
import { snakeCaseQuery } from "../http/query.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
    /** Phase routes: the environment context resolved (and access-checked) during authentication. */
    envContext?: EnvironmentContext;
  }
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error("route used principalOf() without an authentication hook");
  return req.principal;
}

async function authenticateOwnRoute(auth: Authenticator, req: FastifyRequest): Promise<Principal> {
  req.principal = await auth.authenticate(parseAuthorization(req.headers.authorization, true));
  return req.principal;
}

/** Our own routes: typed (`Bearer User <t>`) or plain (`Bearer <t>`) tokens. */
export function authenticate(auth: Authenticator): onRequestHookHandler {
  return async (req: FastifyRequest) => {
    await authenticateOwnRoute(auth, req);
  };
}

/** Our own management routes: an Owner or Admin user only. */
export function requireAdmin(auth: Authenticator): onRequestHookHandler {
  return async (req: FastifyRequest) => {
    const principal = await authenticateOwnRoute(auth, req);
    if (!isAdmin(principal)) throw new ForbiddenError("This action requires an Owner or Admin user token.");
  };
}

/**
 * Phase's routes: Phase's exact header rules, camelCase query aliases, then the environment
 * context and access check, all before rate limiting and body parsing, in Phase's order.
 */
export function phaseAuthenticate(auth: Authenticator, contexts: EnvironmentContextResolver): onRequestHookHandler {
  return async (req: FastifyRequest) => {
    const query = snakeCaseQuery(req.query);
    (req as { query: unknown }).query = query;
    const bearer = parseAuthorization(req.headers.authorization, false);
    const q = {
      appId: str(query["app_id"]),
      env: str(query["env"]),
      secretId: str(query["secret_id"]) ?? str(req.headers["secret_id"] ?? req.headers["secret-id"]),
      environmentHeader: str(req.headers["environment"]),
    };
    let ctx: EnvironmentContext;
    if (q.appId && q.env && isUuid(q.appId) && !q.secretId && !q.environmentHeader) {
      // The usual request: token, app, environment and grant in one round trip.
      const { principal, scope } = await auth.authenticateIn(bearer, q.appId, q.env);
      req.principal = principal;
      ctx = contexts.fromAppEnvironment(q.appId, q.env, scope, principal);
    } else {
      req.principal = await auth.authenticate(bearer);
      ctx = await contexts.resolve(q, req.principal);
    }
    await contexts.authorize(req.principal, ctx);
    req.envContext = ctx;
  };
}

function str(v: unknown): string | undefined {
  if (Array.isArray(v)) return str(v[0]);
  return typeof v === "string" && v !== "" ? v : undefined;
}
