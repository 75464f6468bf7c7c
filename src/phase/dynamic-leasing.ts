import type { FastifyBaseLogger } from "fastify";
import type { RequestMeta } from "../audit/events.js";
import type { Principal } from "../auth/principal.js";
import type { Container } from "../container.js";
import type { LeasableDefinition } from "../dynamic/service.js";
import { BadRequestError } from "../errors.js";
import { LeaseMessages, LeaseProviderError } from "../leases/errors.js";
import { isClientError } from "./dynamic-input.js";
import { toPhaseDynamicSecret, toPhaseLease, type PhaseDynamicSecret } from "./dynamic-wire.js";

/** Who asks for leases, where, and for how long (seconds; undefined or 0 = each default_ttl). */
export interface LeaseRequest {
  principal: Principal;
  meta: RequestMeta;
  environmentId: string;
  ttl: number | undefined;
  log: FastifyBaseLogger;
}

type Services = Pick<Container, "dynamicSecrets" | "leases">;

/**
 * Creates leases for the definitions of one request, one at a time in list order, and renders
 * each definition with its fresh lease (credentials included, only here).
 */
function leaser(c: Services, r: LeaseRequest) {
  /** Leases created so far in this request. */
  const created: string[] = [];
  const lease = async ({ view, open }: LeasableDefinition): Promise<PhaseDynamicSecret> => {
    const input = { secretId: view.id, environmentId: r.environmentId, ttl: r.ttl, definition: await open() };
    const { lease, credentials } = await c.leases.createLease(r.principal, r.meta, input);
    created.push(lease.id);
    return toPhaseDynamicSecret(view, toPhaseLease(lease, credentials));
  };
  /** The request fails: its credentials reach nobody, so the leases it created end now (Phase keeps them to their TTL). */
  const revokeCreated = () => c.leases.revokeUndelivered(r.principal, r.meta, created, r.log);
  return { lease, revokeCreated };
}

/** Phase's 500 for failures the client cannot act on; the cause is logged (scrubbed by the lease code). */
function internal(err: unknown, log: FastifyBaseLogger): LeaseProviderError {
  if (!(err instanceof LeaseProviderError)) log.error({ err }, "lease creation failed");
  return new LeaseProviderError(LeaseMessages.createFailed);
}

/**
 * GET /v1/secrets/dynamic/?lease: stops at the first failure, as Phase does. The leases already
 * created are revoked (reason `undelivered`): the error response carries none of their credentials.
 * TTL and validation errors are 400 `{"error": msg}`; provider and internal failures the 500
 * "An internal error occurred while creating the lease".
 */
export async function leaseInOrder(c: Services, r: LeaseRequest, defs: LeasableDefinition[]): Promise<PhaseDynamicSecret[]> {
  const { lease, revokeCreated } = leaser(c, r);
  const out: PhaseDynamicSecret[] = [];
  for (const def of defs) {
    try {
      out.push(await lease(def));
    } catch (err) {
      await revokeCreated();
      throw isClientError(err) ? err : internal(err, r.log);
    }
  }
  return out;
}

export interface FailedLease {
  secretId: string;
  secretName: string;
  error: string;
}

/**
 * GET /v1/secrets/?dynamic&lease: tries every definition; if any lease failed, Phase's 400 with
 * `failedLeases` and the count of the others, which are then revoked (reason `undelivered`; Phase
 * keeps them to their TTL although the 400 delivers none of their credentials).
 */
export async function leaseAll(c: Services, r: LeaseRequest, defs: LeasableDefinition[]): Promise<PhaseDynamicSecret[]> {
  const { lease, revokeCreated } = leaser(c, r);
  const out: PhaseDynamicSecret[] = [];
  const failed: FailedLease[] = [];
  for (const def of defs) {
    try {
      out.push(await lease(def));
    } catch (err) {
      const error = isClientError(err) ? err.message : internal(err, r.log).message;
      failed.push({ secretId: def.view.id, secretName: def.view.name, error });
    }
  }
  if (failed.length > 0) {
    await revokeCreated();
    throw new BadRequestError("One or more dynamic secret leases could not be created", { failedLeases: failed, successfulLeases: out.length });
  }
  return out;
}

/**
 * The dynamic secrets of an environment in Phase's shape, with a fresh lease each when `lease`
 * is set. For GET /v1/secrets/?dynamic (filtered by `path` only, as Phase does).
 */
export async function dynamicSecretsForListing(
  c: Services,
  r: LeaseRequest,
  q: { path: string | undefined; lease: boolean },
): Promise<PhaseDynamicSecret[]> {
  if (q.lease) return leaseAll(c, r, await c.dynamicSecrets.listForLeasing(r.environmentId, { path: q.path }));
  return (await c.dynamicSecrets.list(r.environmentId, { path: q.path })).map((d) => toPhaseDynamicSecret(d));
}
