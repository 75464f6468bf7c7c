import { authenticate } from "../../auth/hooks.js";
import type { Container } from "../../container.js";
import type { App } from "../../http/types.js";
import { registerEngineRoutes } from "./engine-routes.js";
import { documentEngineRoute } from "./openapi.js";
import { registerLeaseRoutes } from "./lease-routes.js";

/**
 * The ScaiVault-style engine API at /v1/dynamic/ (issue #4). Every route authenticates with our
 * token forms (plain `Bearer <token>` or typed) and asks the access policies (c.policies) on
 * synthetic paths; every error is `{"error": message, "code": code}`.
 */
export async function registerDynamicEngineRoutes(app: App, c: Container): Promise<void> {
  await app.register(async (scope: App) => {
    scope.addHook("onRoute", (route) => {
      route.config = { ...(route.config ?? {}), errorCodes: true };
      documentEngineRoute(route);
    });
    scope.addHook("onRequest", authenticate(c.authenticator));
    registerEngineRoutes(scope, c);
    registerLeaseRoutes(scope, c);
  });
}
