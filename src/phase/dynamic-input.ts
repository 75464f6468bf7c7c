import type { FastifyRequest } from "fastify";
import type { EnvironmentRecord } from "../apps/repository.js";
import { ENV_CONTEXT_REQUIRED } from "../auth/environment-context.js";
import type { CreateDefinitionInput, UpdateDefinitionInput } from "../dynamic/service.js";
import { AppError, BadRequestError, ForbiddenError } from "../errors.js";
import { phaseFlag } from "../http/query.js";
import { jsonObjectBody } from "./body.js";

/**
 * Request parsing for /v1/secrets/dynamic/ and /v1/secrets/dynamic/leases/: Phase's parameters
 * and messages where Phase has them; our definition-management bodies are snake_case like
 * Phase's other bodies (`key_map`, `default_ttl`). Rules about the values (TTL bounds, provider
 * config, key names) stay in the services.
 */
const bad = (message: string) => new BadRequestError(message);

/**
 * The environment the authentication hook resolved. Without one Phase's dynamic views crash
 * (`env.app` on None: a bare 500); we answer with the 403 its secrets view gives instead.
 */
export function environmentOf(req: FastifyRequest): EnvironmentRecord {
  const ctx = req.envContext;
  if (ctx?.mode !== "environment") throw new ForbiddenError(ENV_CONTEXT_REQUIRED);
  return ctx.environment;
}

/** The query, already snake-cased by the authentication hook. */
export const queryOf = (req: FastifyRequest) => req.query as Record<string, unknown>;

/** Django's `request.GET.get`: the last value of a repeated parameter; empty counts as absent. */
export function param(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === "string" && last !== "" ? last : undefined;
}

/** Python's int() of a query string: optional sign, digits (underscores between them), whitespace. */
export function pythonInt(s: string): number | undefined {
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(s)) return undefined;
  const n = Number(s.replaceAll("_", "").trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

export interface DynamicListQuery {
  path: string | undefined;
  id: string | undefined;
  name: string | undefined;
  lease: boolean;
}

/** GET /v1/secrets/dynamic/ (query already snake-cased by the authentication hook). */
export function parseDynamicListQuery(query: Record<string, unknown>): DynamicListQuery {
  return { path: param(query, "path"), id: param(query, "id"), name: param(query, "name"), lease: phaseFlag(query["lease"]) };
}

/**
 * GET /v1/secrets/dynamic/'s `ttl` in seconds (undefined or 0: each definition's default_ttl).
 * Phase reads it after the "No dynamic secrets found" check, with or without `lease`.
 */
export function dynamicTtlOf(query: Record<string, unknown>): number | undefined {
  const raw = param(query, "ttl");
  if (raw === undefined) return undefined;
  const ttl = pythonInt(raw);
  if (ttl === undefined) throw bad("ttl must be a valid integer (seconds)");
  return ttl;
}

/** A body that may be absent (DELETE, lease calls): `{}` then; otherwise Phase's JSON-object rules. */
export function optionalJsonObject(req: FastifyRequest): Record<string, unknown> {
  return typeof req.body === "string" && req.body.trim() !== "" ? jsonObjectBody(req) : {};
}

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** POST body → the definition service's input (it validates every value). */
export function parseDefinitionCreate(body: Record<string, unknown>, environmentId: string): CreateDefinitionInput {
  return defined({
    environmentId,
    name: body["name"],
    path: body["path"] ?? undefined,
    description: body["description"] ?? undefined,
    provider: body["provider"],
    config: body["config"],
    keyMap: body["key_map"] ?? undefined,
    defaultTtl: body["default_ttl"],
    maxTtl: body["max_ttl"],
    verifyConnection: body["verify_connection"] ?? undefined,
  }) as CreateDefinitionInput;
}

/** PUT body → the service's partial update. Path and provider are fixed at creation. */
export function parseDefinitionUpdate(body: Record<string, unknown>): UpdateDefinitionInput {
  for (const field of ["path", "provider"]) {
    if (body[field] !== undefined) throw bad(`'${field}' cannot be changed; delete the dynamic secret and create it again.`);
  }
  return defined({
    name: body["name"],
    description: body["description"],
    config: body["config"],
    keyMap: body["key_map"],
    defaultTtl: body["default_ttl"],
    maxTtl: body["max_ttl"],
    verifyConnection: body["verify_connection"],
  }) as UpdateDefinitionInput;
}

/** The definition `id` of PUT and DELETE: the query string first, then the body. */
export function definitionIdOf(query: Record<string, unknown>, body: Record<string, unknown>): string {
  const id = param(query, "id") ?? (typeof body["id"] === "string" && body["id"] !== "" ? body["id"] : undefined);
  if (!id) throw bad("id is required");
  return id;
}

/** The service's validation messages name its camelCase fields; the client sent snake_case. */
const WIRE_NAMES: [RegExp, string][] = [
  [/^Invalid keyMap/, "Invalid key_map"],
  [/^Invalid defaultTtl/, "Invalid default_ttl"],
  [/^Invalid maxTtl/, "Invalid max_ttl"],
  [/^Invalid verifyConnection/, "Invalid verify_connection"],
];

export function withWireFieldNames(err: unknown): unknown {
  if (!(err instanceof BadRequestError)) return err;
  const rule = WIRE_NAMES.find(([re]) => re.test(err.message));
  return rule ? new BadRequestError(err.message.replace(rule[0], rule[1]), err.extra) : err;
}

/** Python's truthiness of a JSON value (Phase tests `lease_id` with `if not lease_id`). */
const pythonFalsy = (v: unknown) =>
  v === undefined || v === null || v === false || v === 0 || v === "" || (Array.isArray(v) ? v.length === 0 : typeof v === "object" && Object.keys(v).length === 0);

/** `lease_id` from the body (and, for DELETE, the query string when the body's is falsy, as Phase reads it). */
export function leaseIdOf(body: Record<string, unknown>, query?: Record<string, unknown>): string {
  const fromBody = body["lease_id"];
  const v = pythonFalsy(fromBody) && query ? param(query, "lease_id") : fromBody;
  if (pythonFalsy(v)) throw bad("lease_id is required");
  // Anything but a string cannot name a lease: the service answers "Lease not found".
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * Renewal `ttl`: a JSON integer of seconds, 3600 when absent (Phase's default). Phase answers a
 * non-integer with a bare 500; we say what is wrong.
 */
export function renewTtlOf(body: Record<string, unknown>): number {
  const ttl = body["ttl"];
  if (ttl === undefined || ttl === null) return 3600;
  if (typeof ttl !== "number" || !Number.isSafeInteger(ttl)) throw bad("ttl must be a valid integer (seconds)");
  return ttl;
}

/** Phase's "anything else" in lease creation: errors the client cannot act on become this 500. */
export function isClientError(err: unknown): err is AppError {
  return err instanceof AppError && err.statusCode < 500;
}
