import { isUuid } from "../auth/environment-context.js";
import type { Clock } from "../clock.js";
import type { EngineLeaseQueries } from "../leases/engine-queries.js";
import type { LeaseRepository } from "../leases/repository.js";
import type { LeaseService } from "../leases/service.js";
import { isFinal, type Actor, type LeaseRecord, type LeaseStatus } from "../leases/types.js";
import { formatDuration } from "./durations.js";
import { EngineErrors } from "./errors.js";
import { objectBody, ttlField } from "./input.js";
import type { EngineRepository } from "./repository.js";
import type { BulkResult, BulkRevoker } from "./revocation.js";
import { boundsOf, type EngineSources } from "./sources.js";

/** Lease ids on /v1/dynamic/ are `lease_<uuid>` (the prefix revoke-prefix matches on). */
export const LEASE_ID_PREFIX = "lease_";
export const wireLeaseId = (id: string) => `${LEASE_ID_PREFIX}${id}`;

/** `lease_<uuid>` (or a bare uuid) → the row id, or null. */
export function leaseIdOf(wire: string): string | null {
  const id = wire.startsWith(LEASE_ID_PREFIX) ? wire.slice(LEASE_ID_PREFIX.length) : wire;
  return isUuid(id) ? id.toLowerCase() : null;
}

export const STATUSES: Record<string, LeaseStatus> = {
  creating: "CREATING",
  active: "ACTIVE",
  revoking: "REVOKING",
  revoke_failed: "REVOKE_FAILED",
  revoked: "REVOKED",
  expired: "EXPIRED",
  create_failed: "CREATE_FAILED",
};

export interface LeaseListFilter {
  engine?: string | undefined;
  role?: string | undefined;
  status?: string | undefined;
}

export interface RenewResult {
  lease: LeaseRecord;
  warnings: string[];
}

/**
 * Leases on /v1/dynamic/: those minted from engines (directly or through a Phase secret backed by
 * one). Reads, Vault-style renewal, revocation and revoke-prefix; access is checked by the caller.
 */
export function createEngineLeaseService(deps: {
  repo: Pick<LeaseRepository, "find">;
  queries: EngineLeaseQueries;
  leases: Pick<LeaseService, "revokeNow" | "extendLease">;
  engines: EngineRepository;
  sources: EngineSources;
  bulk: BulkRevoker;
  clock: Clock;
}) {
  const { clock } = deps;

  return {
    async find(wireId: string): Promise<LeaseRecord> {
      const id = leaseIdOf(wireId);
      const lease = id ? await deps.repo.find(id) : null;
      if (!lease || lease.engineRole === null) throw EngineErrors.leaseNotFound();
      return lease;
    },

    /** Pages through matching leases newest first, keeping those `keep` accepts, up to `limit`. */
    async list(f: LeaseListFilter, limit: number, keep: (l: LeaseRecord) => Promise<boolean>): Promise<LeaseRecord[]> {
      let engineId: string | undefined;
      if (f.engine !== undefined) engineId = (await deps.sources.engineNamed(f.engine)).id;
      let statuses: LeaseStatus[] | undefined;
      if (f.status !== undefined) {
        statuses = f.status.split(",").map((s) => {
          const st = STATUSES[s.trim().toLowerCase()];
          if (!st) throw EngineErrors.invalidRequest(`Unknown status '${s}'; use ${Object.keys(STATUSES).join(", ")}.`);
          return st;
        });
      }
      const out: LeaseRecord[] = [];
      let before: { createdAt: Date; id: string } | undefined;
      for (;;) {
        const page = await deps.queries.list({ engineId, role: f.role, statuses }, 500, before);
        for (const l of page) {
          if (out.length >= limit) return out;
          if (await keep(l)) out.push(l);
        }
        if (page.length < 500) return out;
        const last = page[page.length - 1]!;
        before = { createdAt: last.createdAt, id: last.id };
      }
    },

    /**
     * Vault's renewal: the new expiry is now + increment (default: the role's default TTL), capped
     * at issue time + the role's max TTL with a warning; past that cap, or expired, it fails.
     */
    async renew(actor: Actor, lease: LeaseRecord, raw: unknown): Promise<RenewResult> {
      const body = raw === undefined || raw === null ? {} : objectBody(raw);
      for (const k of Object.keys(body)) if (k !== "increment") throw EngineErrors.invalidRequest(`Unknown field '${k}'; expected increment.`);
      const now = clock.now();
      if (lease.status === "CREATING") throw EngineErrors.leaseBusy("The lease is still being created; try again in a moment.");
      if (lease.status === "EXPIRED" || lease.revokeReason === "expired" || (lease.status === "ACTIVE" && lease.expiresAt <= now)) throw EngineErrors.leaseExpired();
      if (lease.status !== "ACTIVE") throw EngineErrors.leaseRevoked();
      const engine = lease.engineId ? await deps.engines.findEngineById(lease.engineId) : null;
      if (!engine) throw EngineErrors.engineNotFound(lease.name.split("/")[0] ?? "");
      const role = await deps.engines.findRole(engine.id, lease.engineRole!);
      if (!role) throw EngineErrors.roleNotFound(engine.name, lease.engineRole!);
      const { defaultTtl, maxTtl } = boundsOf(engine, role);
      const increment = ttlField(body["increment"], "increment") ?? defaultTtl;
      const cap = lease.createdAt.getTime() + maxTtl * 1000;
      if (now.getTime() >= cap) {
        throw EngineErrors.ttlExceedsMax(`The lease is past the role's max_ttl (${formatDuration(maxTtl)} from issue) and cannot be renewed.`, { max_ttl: formatDuration(maxTtl) });
      }
      const warnings: string[] = [];
      let expiresAt = now.getTime() + increment * 1000;
      if (expiresAt > cap) {
        expiresAt = cap;
        warnings.push(`The increment (${formatDuration(increment)}) goes past the role's max_ttl (${formatDuration(maxTtl)} from issue); the lease now expires at ${new Date(cap).toISOString()}.`);
      }
      const renewed = await deps.leases.extendLease(actor, lease, new Date(expiresAt), { increment, capped: warnings.length > 0 });
      return { lease: renewed, warnings };
    },

    /** Revokes now (idempotent: a final lease answers as it is); a failed attempt leaves it to the reaper. */
    async revoke(actor: Actor, lease: LeaseRecord): Promise<LeaseRecord> {
      if (isFinal(lease.status)) return lease;
      if (lease.status === "CREATING") throw EngineErrors.leaseBusy("The lease is still being created; try again in a moment.");
      await deps.leases.revokeNow(actor, lease);
      return (await deps.repo.find(lease.id)) ?? lease;
    },

    /** Every live lease of `engine` whose wire id starts with `prefix` (and of `role`, when given). */
    async revokePrefix(actor: Actor, engineName: string, prefix: string, role: string | undefined): Promise<BulkResult> {
      if (!prefix.startsWith(LEASE_ID_PREFIX)) throw EngineErrors.invalidRequest(`prefix must start with '${LEASE_ID_PREFIX}' (lease ids look like lease_<uuid>).`);
      const engine = await deps.sources.engineNamed(engineName);
      const idPrefix = prefix.slice(LEASE_ID_PREFIX.length).toLowerCase();
      return deps.bulk.revoke({ engineId: engine.id, role, idPrefix }, actor);
    },
  };
}

export type EngineLeaseService = ReturnType<typeof createEngineLeaseService>;
