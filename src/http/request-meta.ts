import type { FastifyRequest } from "fastify";
import type { RequestMeta } from "../audit/events.js";

/**
 * The caller's IP and user agent for the audit trail. Behind a trusted proxy (TRUST_PROXY=true)
 * Phase's order applies: X-Real-IP, the first X-Forwarded-For, then the peer; otherwise those
 * headers are client-controlled and ignored.
 */
export function requestMeta(req: FastifyRequest, trustProxy: boolean): RequestMeta {
  const realIp = trustProxy ? header(req, "x-real-ip") : undefined;
  const forwarded = trustProxy ? header(req, "x-forwarded-for")?.split(",")[0]?.trim() : undefined;
  return {
    ipAddress: realIp || forwarded || req.socket.remoteAddress || "unknown",
    userAgent: header(req, "user-agent") || "Unknown",
  };
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
