import { readFileSync } from "node:fs";
import { join } from "node:path";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { RouteOptions } from "fastify";
import type { OpenAPIV3_1 } from "openapi-types";
import { PROJECT_ROOT } from "../paths.js";
import { createOpenApiTransforms, type RouteDocs } from "./openapi-transform.js";
import type { App } from "./types.js";

export type { RouteDocs } from "./openapi-transform.js";

export const TAGS = {
  phase: "Phase secrets",
  dynamic: "Dynamic secrets",
  management: "Management",
  operations: "Operations",
} as const;

/** Security requirements: which of the schemes below a route accepts (any one of them). */
export const SECURITY: Record<"phase" | "user" | "none", Record<string, string[]>[]> = {
  /** Phase's routes: a typed token only, as Phase parses the header. */
  phase: [{ ServiceAccountToken: [] }, { UserToken: [] }],
  /** Our own routes: a user token, typed or plain. */
  user: [{ UserToken: [] }, { BearerToken: [] }],
  none: [],
};

const SECURITY_SCHEMES: Record<string, OpenAPIV3_1.SecuritySchemeObject> = {
  ServiceAccountToken: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "ServiceAccount <token>",
    description:
      "A service account's token: `Authorization: Bearer ServiceAccount <64 hex>`. In the Authorize dialog enter " +
      "`ServiceAccount <token>`. Issued by `POST /v1/service-accounts/{id}/tokens/`.",
  },
  UserToken: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "User <token>",
    description: "A user's token: `Authorization: Bearer User <64 hex>`. In the Authorize dialog enter `User <token>`.",
  },
  BearerToken: {
    type: "http",
    scheme: "bearer",
    description: "A user's token without its type, `Authorization: Bearer <64 hex>` (our own routes only; Phase's routes need the type).",
  },
};

const TAG_LIST: OpenAPIV3_1.TagObject[] = [
  { name: TAGS.phase, description: "Phase's public secrets API, as Phase's CLI, SDKs and Terraform provider call it." },
  { name: TAGS.dynamic, description: "Dynamic secrets and their leases (Phase's endpoints, plus definition management)." },
  { name: TAGS.management, description: "Apps, environments, users, service accounts, access grants and tokens (Owner or Admin)." },
  { name: TAGS.operations, description: "Liveness, readiness and metrics." },
];

/**
 * The docs page's Content-Security-Policy: everything from this server (swagger-ui's assets are
 * served from the installed package, no CDN), nothing inline, no framing; `connect-src 'self'`
 * lets the page load the document and run "Try it out" against this server only.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export interface RegisteredRoute {
  method: string | string[];
  url: string;
  hide: boolean;
  openapi: RouteDocs | undefined;
}

const registered = new WeakMap<App, RouteOptions[]>();

/**
 * Every route registered on the app since registerOpenApi, for the document coverage test. Read
 * when asked: onRoute hooks of a route's own scope (registered after ours) may still add its docs.
 */
export function registeredRoutes(app: App): RegisteredRoute[] {
  const routes = registered.get(app) ?? [];
  return routes.map((r) => ({ method: r.method, url: r.url, hide: Boolean(r.schema?.hide), openapi: r.config?.openapi }));
}

const packageVersion = (): string =>
  (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;

/**
 * The OpenAPI 3.1 document, generated (once, on first request) from the zod schemas the routes
 * validate with, at GET /openapi.json, and swagger-ui at /docs. Register before any route: both
 * this module and @fastify/swagger collect routes with an onRoute hook. Neither needs a token
 * (they describe the API, they expose no data) and neither is rate limited (the limiter counts
 * per account).
 */
export async function registerOpenApi(app: App): Promise<void> {
  const routes: RouteOptions[] = [];
  registered.set(app, routes);
  app.addHook("onRoute", (r: RouteOptions) => void routes.push(r));

  const { transform, transformObject } = createOpenApiTransforms(app.log);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Leasehold",
        version: packageVersion(),
        description:
          "A self-hostable secrets server with a Phase-compatible REST API. Generated from the routes' own " +
          "schemas; also at `/openapi.json`.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      servers: [{ url: "/", description: "This server" }],
      tags: TAG_LIST,
      components: { securitySchemes: SECURITY_SCHEMES },
      security: [...SECURITY.phase, { BearerToken: [] }],
    },
    transform,
    transformObject,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    staticCSP: DOCS_CSP,
    theme: { title: "Leasehold API" },
    // BaseLayout: no top bar (its logo carries an inline <style> the CSP refuses, its URL box is not needed).
    uiConfig: { layout: "BaseLayout", docExpansion: "list", deepLinking: true, defaultModelsExpandDepth: 0, tryItOutEnabled: false },
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
