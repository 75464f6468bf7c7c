import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { App } from "./types.js";

export const REQUEST_ID_HEADER = "x-request-id";

/** What an incoming X-Request-Id must look like to be kept: a short token, safe in logs and headers. */
const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's X-Request-Id when it is a sane token, else a fresh UUID. */
export function requestIdFor(req: Pick<IncomingMessage, "headers">): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const id = Array.isArray(given) ? given[0] : given;
  return id && SANE_ID.test(id) ? id : randomUUID();
}

/**
 * Fastify options: request ids from requestIdFor (Fastify logs each request's lines with it as
 * `reqId`, its default label). Fastify's own header handling would take any value as-is, so it stays off.
 */
export const requestIdOptions = {
  requestIdHeader: false,
  genReqId: requestIdFor,
} as const;

/** Echoes the request id in every response, so a client can quote it. */
export function registerRequestIdHeader(app: App): void {
  app.addHook("onRequest", (req, reply, done) => {
    reply.header(REQUEST_ID_HEADER, req.id);
    done();
  });
}
