import type { FastifyRequest } from "fastify";
import { BadRequestError } from "../errors.js";
import type { App } from "../http/types.js";

const MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * Phase reads the raw body whatever the Content-Type says (`json.loads(request.body)`), so these
 * routes take every body as text and parse it in the handler, after the environment check, with
 * Phase's messages. Fastify reads bodies of POST, PUT and DELETE (with or without a Content-Type)
 * and never of GET (Terraform sends `Content-Type: application/json` on GET).
 */
export function acceptRawBodies(scope: App): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
}

/** The request body as a JSON object, or Phase's 400s: required, valid JSON, an object. */
export function jsonObjectBody(req: FastifyRequest): Record<string, unknown> {
  const raw = typeof req.body === "string" ? req.body : undefined;
  if (!raw) throw new BadRequestError("Request body is required.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new BadRequestError("Request body must be valid JSON.");
  }
  if (!isObject(parsed)) throw new BadRequestError("Request body must be a JSON object.");
  return parsed;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
