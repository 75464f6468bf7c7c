import type { FastifyRequest } from "fastify";
import { phaseAuthenticate, principalOf } from "../auth/hooks.js";
import type { Container } from "../container.js";
import { AppError, BadRequestError } from "../errors.js";
import { requestMeta } from "../http/request-meta.js";
import type { App } from "../http/types.js";
import { environmentOf, leaseIdOf, optionalJsonObject, param, queryOf, renewTtlOf } from "./dynamic-input.js";
import { pythonDatetime } from "../leases/errors.js";
import { toPhaseLease } from "./dynamic-wire.js";
import { LEASES, otherMethodsDocs, phaseDocs } from "./openapi.js";
import { PHASE_PREFIXES } from "./secrets-routes.js";

const SUPPORTED = new Set(["GET", "PUT", "DELETE"]);

/** DRF's reply for a method the view does not define (this view has no `initial` override). */
class MethodNotAllowedError extends AppError {
  constructor(method: string) {
    super(405, `Method "${method}" not allowed.`, {}, { Allow: "GET, PUT, DELETE" });
  }
}

/**
 * /v1/secrets/dynamic/leases/ under Phase's four prefixes:
 * - GET ?secret_id=: the definition's leases, newest first, without credentials. The environment
 *   comes from secret_id in the authentication hook (unknown id: 404 "Secret not found").
 * - PUT ?app_id&env, body {lease_id, ttl=3600}: renew; expiry and ttl grow by ttl (Phase's rule).
 * - DELETE ?app_id&env, lease_id in the body or query: revoke now. With `force=true` (ours,
 *   Owner/Admin only): mark the lease revoked without the provider, for a credential removed by
 *   hand or a target that is gone for good; answered with a warning.
 * Any other method: DRF's 405 after authentication.
 */
export function registerLeaseRoutes(scope: App, c: Container): void {
  const onRequest = phaseAuthenticate(c.authenticator, c.contexts);
  const meta = (req: FastifyRequest) => requestMeta(req, c.config.TRUST_PROXY);

  for (const prefix of PHASE_PREFIXES) {
    const path = "/v1/secrets/dynamic/leases/";
    const url = `${prefix}${path}`;

    scope.get(url, { onRequest, exposeHeadRoute: false, ...phaseDocs(prefix, path, LEASES.list) }, async (req) => {
      const secretId = param(queryOf(req), "secret_id");
      if (!secretId) throw new BadRequestError("secret_id is required");
      const env = environmentOf(req);
      const leases = await c.leases.listLeases({ secretId, environmentId: env.id });
      return leases.map((l) => toPhaseLease(l));
    });

    scope.put(url, { onRequest, ...phaseDocs(prefix, path, LEASES.renew) }, async (req) => {
      const body = optionalJsonObject(req);
      const leaseId = leaseIdOf(body);
      const env = environmentOf(req);
      const ttl = renewTtlOf(body);
      const lease = await c.leases.renewLease(principalOf(req), meta(req), { leaseId, environmentId: env.id, ttl });
      return { message: `Lease renewed successfully. Updated expiry: ${pythonDatetime(lease.expiresAt)}` };
    });

    scope.delete(url, { onRequest, ...phaseDocs(prefix, path, LEASES.revoke) }, async (req) => {
      const query = queryOf(req);
      const leaseId = leaseIdOf(optionalJsonObject(req), query);
      const env = environmentOf(req);
      const ref = { leaseId, environmentId: env.id };
      if (param(query, "force")?.toLowerCase() === "true") {
        const forced = await c.leases.forceRevokeLease(principalOf(req), meta(req), ref);
        if (forced.outcome === "already_revoked") return { message: "Lease was already revoked" };
        return { message: "Lease force-revoked", warning: forced.warning };
      }
      const result = await c.leases.revokeLease(principalOf(req), meta(req), ref);
      switch (result.outcome) {
        case "revoked":
          return { message: "Lease revoked successfully" };
        case "already_revoked":
          return { message: "Lease was already revoked" };
        default:
          // The attempt failed: the lease stays REVOKING and the reaper retries with backoff
          // (Phase leaves it active and never retries). The cause is in the lease's last_error.
          if (result.error !== undefined) throw new AppError(500, "An internal error occurred while revoking the lease");
          // Recorded but not attempted here (revocation paused, or another instance holds it).
          return { message: "Lease revocation requested; it will be revoked shortly" };
      }
    });

    scope.route({
      method: scope.supportedMethods.filter((m) => !SUPPORTED.has(m)),
      url,
      onRequest,
      ...otherMethodsDocs,
      handler: async (req) => {
        throw new MethodNotAllowedError(req.method);
      },
    });
  }
}
