import type { Logger } from "pino";
import type { AppRepository } from "../apps/repository.js";
import type { AuditSink, RequestMeta } from "../audit/events.js";
import { isUuid } from "../auth/environment-context.js";
import { isAdmin, type Principal } from "../auth/principal.js";
import type { Clock } from "../clock.js";
import { ENGINE_PROVIDER } from "../dynamic/definition-config.js";
import type { DefinitionRepository } from "../dynamic/repository.js";
import { NotFoundError } from "../errors.js";
import type { ServerKeys } from "../keys/server-keys.js";
import type { CreateLeaseInput, createLeaseCreator } from "./create.js";
import { LeaseBusyError, LeaseMessages, LeaseNotFoundError, LeasePermissionError, LeaseProviderError, LeaseStateError, TtlError } from "./errors.js";
import { ownerFromPrincipal, type OwnerLookup } from "./owners.js";
import type { LeaseRepository } from "./repository.js";
import type { CurrentConfig, ProviderLookup, Revoker } from "./revoker.js";
import { openState, revocationOf, scrubbedMessage, secretsIn } from "./state.js";
import { checkRenewal } from "./ttl.js";
import { isFinal, type Actor, type LeaseRecord } from "./types.js";
import { toLeaseView, type LeaseView } from "./view.js";

export interface LeaseRef {
  leaseId: string;
  /** When given, the lease must belong to this environment (the one the caller was authorised for). */
  environmentId?: string | undefined;
}

export type RevokeOutcome =
  | { outcome: "revoked"; lease: LeaseView }
  | { outcome: "already_revoked"; lease: LeaseView }
  /** Recorded as REVOKING; the reaper retries (paused revocation, a failed attempt, or another instance holds it). */
  | { outcome: "pending"; lease: LeaseView; error?: string };

export const FORCE_WARNING =
  "The lease was marked revoked without confirming that the upstream credential was removed. " +
  "If it still exists at the provider, remove it by hand.";

const isOwnerOf = (p: Principal, l: LeaseRecord) =>
  p.kind === "user" ? l.ownerUserId === p.id : l.ownerServiceAccountId === p.id;

/**
 * Lease operations for the HTTP layer: create (see create.ts), renew, revoke, force revoke, list.
 * Owners (the user or service account that created a lease) renew and revoke their own; anyone
 * else needs Owner or Admin. Every transition writes a lease_events row in the same statement.
 */
export function createLeaseService(deps: {
  repo: LeaseRepository;
  ownersOf: OwnerLookup;
  definitions: Pick<DefinitionRepository, "findLive">;
  providers: ProviderLookup;
  createLease: ReturnType<typeof createLeaseCreator>;
  revoker: Revoker;
  keys: ServerKeys;
  clock: Clock;
  audit: AuditSink;
  /** The app of a lease's environment, for its audit event (absent: recorded without an app). */
  apps?: Pick<AppRepository, "findEnvironment"> | undefined;
  instanceId: string;
  claimTtlMs: number;
  paused: boolean;
  log?: Logger | undefined;
  currentConfig?: CurrentConfig | undefined;
  /** An engine-backed definition's current role max TTL (creation bounds its leases by it too). */
  engineMaxTtl?: ((definitionId: string) => Promise<number>) | undefined;
}) {
  const { repo, clock } = deps;
  const actorOf = (principal: Principal, meta?: RequestMeta): Actor => ({ principal, ipAddress: meta?.ipAddress, userAgent: meta?.userAgent });

  /** A definition's max TTL; an engine-backed one's is bounded by its engine role's current one too (as at creation). */
  async function maxTtlOf(def: { id: string; provider: string; maxTtl: number }): Promise<number> {
    return def.provider === ENGINE_PROVIDER && deps.engineMaxTtl ? Math.min(def.maxTtl, await deps.engineMaxTtl(def.id)) : def.maxTtl;
  }

  async function view(lease: LeaseRecord): Promise<LeaseView> {
    return toLeaseView(lease, (await deps.ownersOf([lease]))(lease));
  }

  async function find(ref: LeaseRef): Promise<LeaseRecord> {
    const lease = isUuid(ref.leaseId) ? await repo.find(ref.leaseId) : null;
    if (!lease || (ref.environmentId !== undefined && lease.environmentId !== ref.environmentId)) throw new LeaseNotFoundError();
    return lease;
  }

  function assertMayAct(p: Principal, lease: LeaseRecord, message: string): void {
    if (!isOwnerOf(p, lease) && !isAdmin(p)) throw new LeasePermissionError(message);
  }

  /** Calls provider.renew when the upstream credential has its own expiry (Postgres VALID UNTIL). */
  async function renewUpstream(lease: LeaseRecord, expiresAt: Date): Promise<void> {
    const provider = deps.providers.get(lease.provider);
    if (!provider?.capabilities.renewableUpstream || !provider.renew) return;
    const sealed = openState(await deps.keys.get("leases"), lease.id, lease.stateCipher);
    if (!sealed) throw new LeaseStateError(LeaseMessages.revokedCannotRenew);
    const state = deps.currentConfig ? { ...sealed, config: await deps.currentConfig(lease, sealed.config, revocationOf(sealed)) } : sealed;
    try {
      await provider.renew(state.config, revocationOf(state), expiresAt);
    } catch (err) {
      const error = scrubbedMessage(err, secretsIn(state, provider));
      deps.log?.error({ leaseId: lease.id, error }, "upstream renewal failed");
      throw new LeaseProviderError(LeaseMessages.renewFailed, err);
    }
  }

  /**
   * A concurrent renewal of the lease won: its expiry goes upstream again (ours may have landed
   * after it and shortened VALID UNTIL below the lease's expiry); the caller may retry.
   */
  async function lostRenewal(id: string): Promise<never> {
    const current = await repo.find(id);
    // Best effort: renewUpstream logs an upstream failure itself (scrubbed).
    if (current?.status === "ACTIVE") await renewUpstream(current, current.expiresAt).catch(() => undefined);
    throw new LeaseBusyError("The lease changed while it was being renewed; try again.");
  }

  /**
   * One revocation attempt now, for a caller already allowed to revoke `lease`: recorded as
   * REVOKING (reason manual) and claimed in one statement; if the attempt fails the reaper retries.
   */
  async function revokeNow(actor: Actor, lease: LeaseRecord, reason: "manual" | "undelivered" = "manual"): Promise<RevokeOutcome> {
    if (isFinal(lease.status)) return { outcome: "already_revoked", lease: await view(lease) };
    if (lease.status === "CREATING") throw new LeaseBusyError(LeaseMessages.creatingCannotRevoke);
    const now = clock.now();
    const claim = deps.paused ? null : { by: deps.instanceId, until: new Date(now.getTime() + deps.claimTtlMs) };
    const claimed = await repo.requestRevocation(lease.id, reason, claim, now, {
      type: "revoke_requested",
      actor,
      metadata: { reason, previousStatus: lease.status },
    });
    if (!claimed || !claim) return { outcome: "pending", lease: await view((await repo.find(lease.id)) ?? lease) };
    const result = await deps.revoker.revokeClaimed(claimed, actor);
    const current = (await repo.find(lease.id)) ?? claimed;
    if (result.kind === "revoked") return { outcome: "revoked", lease: await view(current) };
    return { outcome: "pending", lease: await view(current), ...(result.kind === "failed" ? { error: result.error } : {}) };
  }

  return {
    /** Returns the credential once (key_map order). */
    async createLease(principal: Principal, meta: RequestMeta | undefined, input: CreateLeaseInput) {
      const { lease, credentials } = await deps.createLease(principal, actorOf(principal, meta), input);
      return { lease: toLeaseView(lease, ownerFromPrincipal(principal)), credentials };
    },

    /** Phase's renewal: expires_at += ttl, ttl += ttl, within max_ttl in total; renewed_at is set. */
    async renewLease(principal: Principal, meta: RequestMeta | undefined, ref: LeaseRef & { ttl: number }): Promise<LeaseView> {
      const lease = await find(ref);
      assertMayAct(principal, lease, LeaseMessages.forbiddenUpdate);
      const now = clock.now();
      if (lease.status === "CREATING") throw new LeaseStateError(LeaseMessages.creatingCannotRenew);
      const def = lease.dynamicSecretId ? await deps.definitions.findLive(lease.dynamicSecretId) : null;
      // Phase's order: the TTL rules, then expiry, then (its schedule step) a revoked lease.
      if (def) checkRenewal(lease, ref.ttl, await maxTtlOf(def), now);
      if (lease.status === "EXPIRED" || lease.revokeReason === "expired" || lease.expiresAt <= now) throw new TtlError(LeaseMessages.expired);
      if (lease.status !== "ACTIVE") {
        // Phase also moves a revoked lease's expiry before it says so; ours stays as it was.
        if (lease.status === "REVOKED" && lease.revokedAt) throw new LeaseStateError(LeaseMessages.alreadyRevoked(lease.revokedAt));
        throw new LeaseStateError(LeaseMessages.revokedCannotRenew);
      }
      if (!def) throw new LeaseStateError(LeaseMessages.definitionGone);
      const expiresAt = new Date(lease.expiresAt.getTime() + ref.ttl * 1000);
      await renewUpstream(lease, expiresAt);
      const renewed = await repo.renew(lease.id, ref.ttl, lease, now, {
        type: "renewed",
        actor: actorOf(principal, meta),
        metadata: { ttl: ref.ttl, expiresAt: expiresAt.toISOString() },
      });
      if (!renewed) return lostRenewal(lease.id);
      return view(renewed);
    },

    /**
     * Revokes now when possible: the request is recorded (REVOKING, reason manual) and claimed in
     * one statement, then one attempt runs inline. If it fails, the reaper keeps retrying.
     */
    async revokeLease(principal: Principal, meta: RequestMeta | undefined, ref: LeaseRef): Promise<RevokeOutcome> {
      const lease = await find(ref);
      assertMayAct(principal, lease, LeaseMessages.forbiddenDelete);
      return revokeNow(actorOf(principal, meta), lease);
    },

    /** For callers that checked access themselves (the /v1/dynamic/ surface's policies). */
    revokeNow,

    /**
     * Revokes leases this request created whose credentials it could not deliver (a multi-lease
     * request that failed part-way): nobody holds them, so they end now instead of at their TTL.
     * A revocation that fails stays REVOKING for the reaper; one that cannot even be recorded is logged.
     */
    async revokeUndelivered(principal: Principal, meta: RequestMeta | undefined, leaseIds: string[], log?: Pick<Logger, "error">): Promise<void> {
      for (const leaseId of leaseIds) {
        try {
          const lease = await repo.find(leaseId);
          if (lease) await revokeNow(actorOf(principal, meta), lease, "undelivered");
        } catch (err) {
          log?.error({ err, leaseId }, "could not revoke a lease whose credential was not delivered; it ends at its expiry");
        }
      }
    },

    /**
     * Moves an ACTIVE lease's expiry to `expiresAt` (the /v1/dynamic/ surface's Vault-style renewal,
     * computed by the caller, who also checked access): upstream first (Postgres VALID UNTIL), then
     * the row, guarded against a concurrent change; ttl_seconds becomes the lease's total lifetime.
     */
    async extendLease(actor: Actor, lease: LeaseRecord, expiresAt: Date, metadata: Record<string, unknown>): Promise<LeaseRecord> {
      await renewUpstream(lease, expiresAt);
      const now = clock.now();
      const total = Math.round((expiresAt.getTime() - lease.createdAt.getTime()) / 1000);
      const renewed = await repo.renewTo(lease.id, expiresAt, total, lease.expiresAt, now, {
        type: "renewed",
        actor,
        metadata: { ...metadata, expiresAt: expiresAt.toISOString() },
      });
      if (!renewed) return lostRenewal(lease.id);
      return renewed;
    },

    /** Owner/Admin only: REVOKED (forced) without upstream confirmation; audited with a warning. */
    async forceRevokeLease(principal: Principal, meta: RequestMeta | undefined, ref: LeaseRef) {
      if (!isAdmin(principal)) throw new LeasePermissionError(LeaseMessages.forbiddenForce);
      const lease = await find(ref);
      if (isFinal(lease.status)) return { outcome: "already_revoked" as const, lease: await view(lease) };
      const now = clock.now();
      const forced = await repo.forceRevoke(lease.id, now, {
        type: "force_revoked",
        actor: actorOf(principal, meta),
        metadata: { previousStatus: lease.status, identity: lease.upstreamIdentity, lastError: lease.lastError, warning: FORCE_WARNING },
      });
      if (!forced) return { outcome: "already_revoked" as const, lease: await view((await repo.find(lease.id)) ?? lease) };
      deps.log?.warn({ leaseId: lease.id, identity: lease.upstreamIdentity, provider: lease.provider }, "lease force-revoked; the upstream credential may still exist");
      const env = lease.environmentId ? await deps.apps?.findEnvironment(lease.environmentId).catch(() => null) : null;
      deps.audit.record([
        {
          eventType: "lease.force_revoke",
          occurredAt: now,
          principal,
          ipAddress: meta?.ipAddress,
          userAgent: meta?.userAgent,
          appId: env?.appId,
          environmentId: lease.environmentId ?? undefined,
          secretId: lease.dynamicSecretId ?? undefined,
          metadata: { leaseId: lease.id, identity: lease.upstreamIdentity, previousStatus: lease.status },
        },
      ]);
      return { outcome: "forced" as const, lease: await view(forced), warning: FORCE_WARNING };
    },

    /** A definition's leases, newest first (all of them: Phase's default roles may read every lease). */
    async listLeases(ref: { secretId: string; environmentId?: string | undefined }): Promise<LeaseView[]> {
      const def = isUuid(ref.secretId) ? await deps.definitions.findLive(ref.secretId) : null;
      if (!def || (ref.environmentId !== undefined && def.environmentId !== ref.environmentId)) throw new NotFoundError(LeaseMessages.secretNotFound);
      const leases = await repo.listByDefinition(def.id);
      const ownerOf = await deps.ownersOf(leases);
      return leases.map((l) => toLeaseView(l, ownerOf(l)));
    },

    async getLease(ref: LeaseRef): Promise<LeaseView> {
      return view(await find(ref));
    },
  };
}

export type LeaseService = ReturnType<typeof createLeaseService>;
