import type { FastifyRequest } from "fastify";
import { AppError, BadRequestError } from "../errors.js";
import type { App } from "../http/types.js";

const MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * Phase reads the raw body whatever the Content-Type says (`json.loads(request.body)`), so these
 * routes take every body as text and parse it in the handler, after the environment check, with
 * Phase's messages. GET is never parsed (Terraform sends `Content-Type: application/json` on GET).
 */
export function acceptRawBodies(scope: App): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
}

/** The request body as a JSON object, or Phase's 400s: required, valid JSON, an object. */
export async function jsonObjectBody(req: FastifyRequest): Promise<Record<string, unknown>> {
  const raw = typeof req.body === "string" ? req.body : await unparsedBody(req);
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

/**
 * Fastify skips body parsing for a DELETE without Content-Type; Phase still reads that body.
 * Read it here (bounded) when the request announces one.
 */
async function unparsedBody(req: FastifyRequest): Promise<string | undefined> {
  const announced = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
  if (!announced || req.raw.readableEnded) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.raw) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new AppError(413, "Request body is too large.");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
