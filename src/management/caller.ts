import type { FastifyRequest } from "fastify";
import type { Caller } from "../audit/events.js";
import { principalOf } from "../auth/hooks.js";
import { requestMeta } from "../http/request-meta.js";

/** The authenticated caller of a management route and where the request came from, for audit events. */
export const callerOf = (req: FastifyRequest, trustProxy: boolean): Caller => ({
  principal: principalOf(req),
  meta: requestMeta(req, trustProxy),
});
