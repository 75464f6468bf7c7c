import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { AppRepository } from "../apps/repository.js";
import type { AuditSink } from "../audit/events.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { MasterKey } from "../crypto/envelope.js";
import type { Database } from "../db/database.js";
import { createDefinitionRepository } from "../dynamic/repository.js";
import { createDefinitionService, type DefinitionBridge } from "../dynamic/service.js";
import { createServerKeys } from "../keys/server-keys.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { createLeaseCreator } from "./create.js";
import { createEngineLeaseQueries } from "./engine-queries.js";
import { createFaultInjector } from "./faults.js";
import { createReaper } from "./reaper.js";
import { createOwnerLookup } from "./owners.js";
import { createLeaseRepository } from "./repository.js";
import { createRevoker, type CurrentConfig, type ProviderLookup, type RevocationObserver } from "./revoker.js";
import { createLeaseService } from "./service.js";

/** This process's claim name: distinct per process, readable in the leases table. */
export const newInstanceId = () => `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;

/** The registry throws on unknown ids; the lease code treats an unknown provider as a recorded failure. */
export const lookupIn = (registry: Pick<ProviderRegistry, "has" | "get">): ProviderLookup => ({
  get: (id) => (registry.has(id) ? registry.get(id) : undefined),
});

/**
 * Wires dynamic-secret definitions, leases, the revocation path and the reaper. Nothing runs
 * until `reaper.start()` (the server calls it after listen).
 */
export function createLeaseModule(deps: {
  config: Config;
  db: Database;
  masterKey: MasterKey;
  clock: Clock;
  audit: AuditSink;
  apps: Pick<AppRepository, "findEnvironment">;
  providers: ProviderRegistry;
  log?: Logger | undefined;
  instanceId?: string;
  /** Revocation outcomes for metrics (src/observability). */
  observer?: RevocationObserver | undefined;
  /** Engines (src/engines): current root credentials for engine leases, engine-backed definitions. */
  engines?: { currentConfig: CurrentConfig; bridge: DefinitionBridge } | undefined;
}) {
  const { config: c, db, clock } = deps;
  const prisma = db.prisma;
  const log = deps.log?.child({ component: "leases" });
  const instanceId = deps.instanceId ?? newInstanceId();
  const providers = lookupIn(deps.providers);
  const keys = createServerKeys({ prisma, masterKey: deps.masterKey });
  const repo = createLeaseRepository(db);
  const definitionRepo = createDefinitionRepository(db);
  const faults = createFaultInjector(c, log);
  const definitions = createDefinitionService({ definitions: definitionRepo, leases: repo, apps: deps.apps, providers, masterKey: deps.masterKey, clock, bridge: deps.engines?.bridge });
  // Revocation and renewal act with the current root credentials of a lease's engine or definition.
  const currentConfig: CurrentConfig = (lease, snapshot, revocation) =>
    lease.engineId
      ? (deps.engines?.currentConfig(lease, snapshot, revocation) ?? Promise.resolve(snapshot))
      : definitions.currentConfig(lease, snapshot, revocation);
  const revoker = createRevoker({
    repo,
    providers,
    keys,
    clock,
    instanceId,
    faults,
    log,
    observer: deps.observer,
    currentConfig,
    providerTimeoutMs: c.LEASEHOLD_PROVIDER_TIMEOUT_MS,
    policy: {
      baseMs: c.LEASEHOLD_REVOCATION_BACKOFF_BASE_MS,
      maxMs: c.LEASEHOLD_REVOCATION_BACKOFF_MAX_MS,
      maxAttempts: c.LEASEHOLD_REVOCATION_MAX_ATTEMPTS,
      slowRetryMs: c.LEASEHOLD_REVOCATION_SLOW_RETRY_MS,
    },
  });
  const createLease = createLeaseCreator({
    repo,
    definitions,
    revoker,
    keys,
    clock,
    instanceId,
    faults,
    log,
    createTimeoutMs: c.LEASEHOLD_LEASE_CREATE_TIMEOUT_MS,
    claimTtlMs: c.LEASEHOLD_REAPER_CLAIM_TTL_MS,
  });
  const leases = createLeaseService({
    repo,
    ownersOf: createOwnerLookup(prisma),
    definitions: definitionRepo,
    providers,
    createLease,
    revoker,
    keys,
    clock,
    audit: deps.audit,
    apps: deps.apps,
    instanceId,
    claimTtlMs: c.LEASEHOLD_REAPER_CLAIM_TTL_MS,
    paused: c.LEASEHOLD_REVOCATION_PAUSED,
    log,
    currentConfig,
    engineMaxTtl: (id) => definitions.engineMaxTtl(id),
  });
  const ownersOf = createOwnerLookup(prisma);
  const reaper = createReaper({
    repo,
    revoker,
    keys,
    clock,
    instanceId,
    log,
    settings: {
      schedule: c.LEASEHOLD_REAPER_SCHEDULE,
      batchSize: c.LEASEHOLD_REAPER_BATCH_SIZE,
      concurrencyPerTarget: c.LEASEHOLD_REAPER_CONCURRENCY_PER_TARGET,
      claimTtlMs: c.LEASEHOLD_REAPER_CLAIM_TTL_MS,
      providerTimeoutMs: c.LEASEHOLD_PROVIDER_TIMEOUT_MS,
      skipDelayMs: c.LEASEHOLD_REVOCATION_BACKOFF_BASE_MS,
      paused: c.LEASEHOLD_REVOCATION_PAUSED,
    },
  });
  return {
    instanceId,
    dynamicSecrets: definitions,
    /** The lookup the secrets service and the env-context resolver use for dynamic secret ids. */
    dynamicSecretEnvironment: (id: string) => definitionRepo.findEnvironmentId(id),
    leases,
    reaper,
    /** What the /v1/dynamic/ surface (src/engines) builds on: the same lifecycle, no parallel one. */
    forEngines: {
      repo,
      queries: createEngineLeaseQueries(db),
      mint: createLease.mint,
      revoker,
      ownersOf,
      faults,
      instanceId,
      claimTtlMs: c.LEASEHOLD_REAPER_CLAIM_TTL_MS,
      paused: c.LEASEHOLD_REVOCATION_PAUSED,
      providerTimeoutMs: c.LEASEHOLD_PROVIDER_TIMEOUT_MS,
    },
  };
}

export type LeaseModule = ReturnType<typeof createLeaseModule>;
