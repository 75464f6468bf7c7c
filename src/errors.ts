import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";

/**
 * Every error the service layer means to show a client. The HTTP status and the message are part
 * of the contract (Phase's clients match on them), so they are chosen where the error is thrown;
 * `extra` adds fields to the `{"error": ...}` envelope (e.g. Phase's `failedLeases`).
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super(400, message, extra);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message: string, headers?: Record<string, string>) {
    super(401, message, {}, headers);
  }
}
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(403, message);
  }
}
export class NotFoundError extends AppError {
  constructor(message: string) {
    super(404, message);
  }
}
export class ConflictError extends AppError {
  constructor(message: string) {
    super(409, message);
  }
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Errors of this route carry a `code` (`codeForStatus` when the error has none): the /v1/dynamic/ surface. */
    errorCodes?: boolean;
  }
}

/**
 * An error with a machine-readable `code` next to the human message (the /v1/dynamic/ surface:
 * `engine_not_found`, `ttl_exceeds_max`, ...): `{"error": message, "code": code, "details"?: ...}`.
 */
export class CodedError extends AppError {
  constructor(
    statusCode: number,
    readonly code: string,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(statusCode, message, { code, ...(details ? { details } : {}) });
  }
}

/** The code an error without one gets on routes that promise codes (route config `errorCodes`). */
function codeForStatus(status: number): string {
  if (status === 401) return "unauthorized";
  if (status === 403) return "permission_denied";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "internal_error";
  return "invalid_request";
}

const promisesCodes = (req: FastifyRequest) => req.routeOptions?.config?.errorCodes === true;

/** `{"error": message}`, plus a `code` on routes that promise one (when the error has none). */
function body(req: FastifyRequest, status: number, message: string, extra: Record<string, unknown> = {}) {
  return promisesCodes(req) && extra["code"] === undefined ? { error: message, code: codeForStatus(status), ...extra } : { error: message, ...extra };
}

/** The one place errors become HTTP. Unknown errors are logged and shown as Phase's generic 500. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      return reply.code(err.statusCode).headers(err.headers).send(body(req, err.statusCode, err.message, err.extra));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0];
      const where = issue?.instancePath ? issue.instancePath.replace(/^\//, "").replaceAll("/", ".") : "";
      const ctx = err.validationContext ?? "request";
      const message = `Invalid ${ctx}${where ? ` field '${where}'` : ""}: ${issue?.message ?? "invalid input"}`;
      return reply.code(400).send(body(req, 400, message));
    }
    const status = (err as FastifyError).statusCode;
    if (typeof status === "number" && status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, body too large, unsupported media type...).
      return reply.code(status).send(body(req, status, clientErrorMessage(err as FastifyError)));
    }
    req.log.error({ err }, "unhandled error");
    return reply.code(500).send(body(req, 500, "Internal server error."));
  });
}

function clientErrorMessage(err: FastifyError): string {
  switch (err.code) {
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "Request body is required.";
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return "Request body must be valid JSON.";
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return "Request body is too large.";
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "Unsupported media type: send application/json.";
    default:
      return err.message.replace(/^FST_\w+:?\s*/, "");
  }
}
