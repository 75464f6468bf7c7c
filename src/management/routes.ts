import { requireAdmin } from "../auth/hooks.js";
import type { Container } from "../container.js";
import type { App } from "../http/types.js";
import { createAppManagement } from "../apps/management.js";
import { createIdentityManagement } from "../identity/management.js";
import { registerPolicyRoutes } from "../policies/routes.js";
import { registerAppRoutes } from "./apps.js";
import { documentManagementRoute } from "./openapi.js";
import { registerAuditRoutes } from "./audit.js";
import { registerServiceAccountRoutes } from "./service-accounts.js";
import { registerUserRoutes } from "./users.js";

/**
 * Leasehold's own management API: /v1/apps/, /v1/service-accounts/, /v1/users/, /v1/policies/, /v1/audit/events. Every route in
 * this scope needs an Owner or Admin user token (401 without credentials, 403 for Developers and
 * service accounts), checked before the body is parsed or validated.
 */
export async function registerManagementRoutes(app: App, c: Container): Promise<void> {
  await app.register(async (scope: App) => {
    scope.addHook("onRequest", requireAdmin(c.authenticator));
    scope.addHook("onRoute", documentManagementRoute);
    const audited = { audit: c.audit, clock: c.clock };
    const identity = createIdentityManagement(c.identityService, audited);
    const trustProxy = c.config.TRUST_PROXY;
    registerAppRoutes(scope, createAppManagement(c.appService, { ...audited, leases: c.dynamicSecrets }), trustProxy);
    registerServiceAccountRoutes(scope, c.identityService, identity, trustProxy);
    registerUserRoutes(scope, c.identityService, identity, trustProxy);
    registerPolicyRoutes(scope, c.policies, c.config.TRUST_PROXY);
    registerAuditRoutes(scope, c.auditLog, trustProxy);
  });
}
