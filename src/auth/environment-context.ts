import type { AppRepository, EnvironmentRecord } from "../apps/repository.js";
import { ForbiddenError, NotFoundError, UnauthorizedError } from "../errors.js";
import type { AppEnvironmentLookup, IdentityRepository } from "../identity/repository.js";
import { isAdmin, type Principal } from "./principal.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: string) => UUID.test(v);

export const ENV_CONTEXT_REQUIRED = "Environment context required. Supply `app_id` and `env` as query parameters.";

export interface ContextQuery {
  appId?: string | undefined;
  env?: string | undefined;
  secretId?: string | undefined;
  /** The `Environment` header (an environment id), as Phase's E2EE clients send it. */
  environmentHeader?: string | undefined;
}

export type EnvironmentContext =
  /** `granted`: the caller's grant, when the lookup already fetched it (saves a round trip). */
  | { mode: "environment"; environment: EnvironmentRecord; granted?: boolean }
  | { mode: "app"; appId: string }
  | { mode: "organisation" };

/** Looks up which environment a secret id (static, and later dynamic) belongs to. */
export type SecretEnvironmentLookup = (secretId: string) => Promise<string | null>;

export function accountFilter(p: Principal): { userId: string } | { serviceAccountId: string } {
  return p.kind === "user" ? { userId: p.id } : { serviceAccountId: p.id };
}

/**
 * Phase's environment-context rules (first match wins: secret_id, Environment header,
 * app_id + env, app_id alone, nothing) with its exact statuses and messages, followed by the
 * caller's access check: users get 403, service accounts 401, as Phase does.
 */
export function createEnvironmentContextResolver(deps: {
  apps: Pick<AppRepository, "findApp" | "findEnvironment" | "findAppEnvironment">;
  identity: Pick<IdentityRepository, "hasAccess" | "hasAnyAccessInApp">;
  secretEnvironment: SecretEnvironmentLookup;
}) {
  /** With `principal`, the app_id + env lookup also fetches the caller's grant in the same query. */
  async function resolve(q: ContextQuery, principal?: Principal): Promise<EnvironmentContext> {
    if (q.secretId) {
      const envId = isUuid(q.secretId) ? await deps.secretEnvironment(q.secretId) : null;
      const environment = envId ? await deps.apps.findEnvironment(envId) : null;
      if (!environment) throw new NotFoundError("Secret not found");
      return { mode: "environment", environment };
    }
    if (q.environmentHeader) {
      const environment = isUuid(q.environmentHeader) ? await deps.apps.findEnvironment(q.environmentHeader) : null;
      if (!environment) throw new UnauthorizedError("Environment not found");
      return { mode: "environment", environment };
    }
    if (q.appId) {
      if (!isUuid(q.appId)) throw new NotFoundError(`App with ID ${q.appId} not found`);
      if (!q.env) {
        const app = await deps.apps.findApp(q.appId);
        if (!app) throw new NotFoundError(`App with ID ${q.appId} not found`);
        return { mode: "app", appId: app.id };
      }
      const account = principal && !isAdmin(principal) ? accountFilter(principal) : null;
      return fromAppEnvironment(q.appId, q.env, await deps.apps.findAppEnvironment(q.appId, q.env, account), principal);
    }
    return { mode: "organisation" };
  }

  /** The app_id + env context from a lookup already made (its grant is the principal's own). */
  function fromAppEnvironment(appId: string, env: string, found: AppEnvironmentLookup, principal?: Principal): EnvironmentContext {
    if (!found.appFound) throw new NotFoundError(`App with ID ${appId} not found`);
    if (!found.environment) throw new NotFoundError(`Environment '${env}' not found in App ${appId}`);
    const checked = principal !== undefined && !isAdmin(principal);
    return { mode: "environment", environment: found.environment, ...(checked ? { granted: found.granted } : {}) };
  }

  async function authorize(principal: Principal, ctx: EnvironmentContext): Promise<void> {
    if (isAdmin(principal) || ctx.mode === "organisation") return;
    const who = accountFilter(principal);
    const isUser = principal.kind === "user";
    if (ctx.mode === "environment") {
      if (ctx.granted ?? (await deps.identity.hasAccess(who, ctx.environment.id))) return;
      throw isUser
        ? new ForbiddenError("User cannot access this environment")
        : new UnauthorizedError("Service account cannot access this environment");
    }
    if (await deps.identity.hasAnyAccessInApp(who, ctx.appId)) return;
    throw isUser ? new ForbiddenError("User cannot access this app") : new UnauthorizedError("Service account cannot access this app");
  }

  return {
    resolve,
    fromAppEnvironment,
    authorize,
    /** Resolve, check access, and require an environment (Phase's secrets endpoints). */
    async requireEnvironment(principal: Principal, q: ContextQuery): Promise<EnvironmentRecord> {
      const ctx = await resolve(q, principal);
      await authorize(principal, ctx);
      if (ctx.mode !== "environment") throw new ForbiddenError(ENV_CONTEXT_REQUIRED);
      return ctx.environment;
    },
    /** Can this principal read this environment? (secret references across environments) */
    async canAccess(principal: Principal, environmentId: string): Promise<boolean> {
      return isAdmin(principal) || deps.identity.hasAccess(accountFilter(principal), environmentId);
    },
  };
}

export type EnvironmentContextResolver = ReturnType<typeof createEnvironmentContextResolver>;
