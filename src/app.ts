import Fastify, { type FastifyBaseLogger } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import { registerDynamicEngineRoutes } from "./engines/http/routes.js";
import { registerErrorHandler } from "./errors.js";
import type { Container } from "./container.js";
import { registerHealthRoutes } from "./http/health.js";
import { registerMetrics } from "./http/metrics.js";
import { registerRateLimit } from "./http/rate-limit.js";
import { registerRequestIdHeader, requestIdOptions } from "./http/request-id.js";
import { registerTlsHooks } from "./http/tls.js";
import { registerOpenApi, SECURITY, TAGS } from "./http/openapi.js";
import type { App } from "./http/types.js";
import { registerManagementRoutes } from "./management/routes.js";
import { registerPhaseRoutes } from "./phase/routes.js";

export interface BuildAppOptions {
  logger: Logger;
  /** Extra Fastify server options (TLS/HTTP2 from src/http/tls.ts; with `https`, responses carry HSTS). */
  serverOptions?: Record<string, unknown>;
}

/** The Fastify instance with every plugin and route, never listening: tests inject or listen themselves. */
export async function buildApp(c: Container, opts: BuildAppOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: 5 * 1024 * 1024,
    trustProxy: c.config.TRUST_PROXY,
    ...requestIdOptions,
    ...(opts.serverOptions ?? {}),
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: "Not found" }));

  await registerOpenApi(app); // before any route: it collects them as they are added
  registerRequestIdHeader(app);
  if (opts.serverOptions?.["https"]) registerTlsHooks(app);
  registerMetrics(app, c);
  await registerRateLimit(app, c);
  await registerHealthRoutes(app, c);

  const alive = {
    message: "API is alive. Please see https://docs.phase.dev/public-api for documentation on available endpoints.",
    status: "ok",
  };
  const aliveDocs = { tags: [TAGS.operations], summary: "API is alive", security: SECURITY.none };
  for (const url of ["/", "/public/", "/service/", "/service/public/"]) {
    app.get(url, { schema: aliveDocs, config: url === "/" ? {} : { openapi: { aliasOf: "/" } } }, async () => alive);
  }

  await registerPhaseRoutes(app, c);
  await registerManagementRoutes(app, c);
  await registerDynamicEngineRoutes(app, c);
  return app;
}
