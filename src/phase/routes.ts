import type { Container } from "../container.js";
import type { App } from "../http/types.js";
import { acceptRawBodies } from "./body.js";
import { registerDynamicRoutes } from "./dynamic-routes.js";
import { registerSecretsRoutes } from "./secrets-routes.js";

/**
 * Phase's public REST API. Registered in its own encapsulated scope: its bodies are read raw and
 * parsed by the handlers with Phase's messages, without touching the JSON parser of our own routes.
 */
export async function registerPhaseRoutes(app: App, c: Container): Promise<void> {
  await app.register(async (scope: App) => {
    acceptRawBodies(scope);
    registerSecretsRoutes(scope, c);
    registerDynamicRoutes(scope, c);
  });
}
