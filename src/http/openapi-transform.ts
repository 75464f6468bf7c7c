import { STATUS_CODES } from "node:http";
import type { SwaggerTransform, SwaggerTransformObject } from "@fastify/swagger";
import type { FastifyBaseLogger, FastifySchema } from "fastify";
import { createJsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import type { OpenAPIV3_1 } from "openapi-types";
import type { ZodType } from "zod";

/** How a route appears in the OpenAPI document (route option `config.openapi`). */
export interface RouteDocs {
  /** This URL serves the same operation as `aliasOf` (same method): listed on that operation, not on its own. */
  aliasOf?: string;
  /** Left out of the document, and why (e.g. Phase's 403 for methods it does not support). */
  hidden?: string;
  /**
   * Descriptions of a route that validates by hand (Phase's routes keep Phase's exact messages):
   * documentation only, never compiled into a validator or serializer.
   */
  describe?: { querystring?: ZodType; body?: ZodType; response?: Record<number, ZodType> };
}

declare module "fastify" {
  interface FastifyContextConfig {
    openapi?: RouteDocs;
  }
}

/** Extension on an operation whose zod schemas could not be converted (the coverage test fails on it). */
export const SCHEMA_ERROR = "x-leasehold-schema-error";
/** Extension listing the other URLs that serve an operation. */
export const ALIASES = "x-leasehold-aliases";

/** `/v1/apps/:id/` → `/v1/apps/{id}/`, as @fastify/swagger writes paths. */
export function openapiPath(url: string): string {
  return url.replace(/:(\w+)(\([^)]*\))?/g, "{$1}");
}

type Operation = OpenAPIV3_1.OperationObject & Record<string, unknown>;

/**
 * zod → JSON Schema for one route. A type JSON Schema cannot express (a transform's output, a
 * custom type) throws here rather than being written as `{}`, which would document nothing.
 */
const zodTransform = createJsonSchemaTransform({ skipList: [], zodToJsonConfig: { unrepresentable: "throw" } });

/**
 * The transforms @fastify/swagger runs on each route and then on the whole document: zod schemas
 * to JSON Schema (fastify-type-provider-zod), aliases folded into their documented operation, and
 * a route whose schemas cannot be converted still listed (without them) and flagged, so the
 * document keeps being served and the coverage test names the route.
 */
export function createOpenApiTransforms(log: FastifyBaseLogger): { transform: SwaggerTransform; transformObject: SwaggerTransformObject } {
  // One document generation: every route's transform, then transformObject.
  let aliases = new Map<string, Set<string>>(); // "get /v1/secrets/" → alias paths
  let failures = new Map<string, string>(); // "get /v1/x/" → message

  const keys = (method: string | string[], url: string) =>
    (Array.isArray(method) ? method : [method]).map((m) => `${m.toLowerCase()} ${openapiPath(url)}`);

  const transform: SwaggerTransform = (input) => {
    const { route, url } = input;
    const docs = route.config?.openapi;
    if (docs?.hidden) return { schema: { hide: true }, url };
    if (docs?.aliasOf) {
      for (const key of keys(route.method, docs.aliasOf)) {
        const set = aliases.get(key) ?? new Set<string>();
        aliases.set(key, set.add(openapiPath(url)));
      }
      return { schema: { hide: true }, url };
    }
    const schema = (docs?.describe ? { ...input.schema, ...docs.describe } : input.schema) as FastifySchema;
    try {
      return zodTransform({ ...input, schema });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      for (const key of keys(route.method, url)) failures.set(key, message);
      log.error({ route: { method: route.method, url }, reason: message }, "OpenAPI: a route's schema could not be converted");
      const { body: _b, querystring: _q, params: _p, headers: _h, response: _r, ...meta } = schema ?? {};
      return { schema: meta, url };
    }
  };

  const transformObject: SwaggerTransformObject = (input) => {
    const doc = jsonSchemaTransformObject(input) as OpenAPIV3_1.Document;
    const operation = (key: string): Operation | undefined => {
      const [method, path] = key.split(" ") as [string, string];
      return (doc.paths?.[path] as Record<string, Operation> | undefined)?.[method];
    };
    for (const item of Object.values(doc.paths ?? {})) {
      for (const op of Object.values(item ?? {}) as Operation[]) {
        // @fastify/swagger's placeholder → the status's reason phrase ("Created", "Not Found").
        for (const [status, r] of Object.entries(op.responses ?? {}) as [string, { description?: string }][]) {
          if (r.description === "Default Response") r.description = STATUS_CODES[status] ?? r.description;
        }
      }
    }
    for (const [key, paths] of aliases) {
      const op = operation(key);
      if (!op) continue; // an alias of nothing documented: the coverage test reports it
      const list = [...paths].sort();
      op[ALIASES] = list;
      const also = `Also served at ${list.map((p) => `\`${p}\``).join(", ")}.`;
      op.description = op.description ? `${op.description}\n\n${also}` : also;
    }
    for (const [key, message] of failures) {
      const op = operation(key);
      if (op) op[SCHEMA_ERROR] = message;
    }
    aliases = new Map();
    failures = new Map();
    return doc;
  };

  return { transform, transformObject };
}
