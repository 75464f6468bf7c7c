import type { Logger } from "pino";
import type { Principal } from "../auth/principal.js";
import type { Clock } from "../clock.js";
import type { MasterKey } from "../crypto/envelope.js";
import type { Database } from "../db/database.js";
import { createServerKeys } from "../keys/server-keys.js";
import type { LeaseModule } from "../leases/module.js";
import type { ProviderLookup } from "../leases/revoker.js";
import type { SecretReader } from "../secrets/reader.js";
import { createDefinitionBridge } from "./bridge.js";
import { createCredsService } from "./creds.js";
import { createEngineLeaseService } from "./leases.js";
import { createEngineRepository } from "./repository.js";
import { createBulkRevoker } from "./revocation.js";
import { createRoleService } from "./roles.js";
import { createRootVault } from "./root.js";
import { createRootRotation } from "./rotation.js";
import { createEngineService } from "./service.js";
import { createEngineSources } from "./sources.js";

/**
 * Engines in two steps, because the lease module needs part of them and they need the lease
 * module: first what leases use (sources: root credentials at use time; the Phase bridge), then
 * the /v1/dynamic/ services on top of the lease lifecycle.
 */
export function createEngineSourcesModule(deps: { db: Database; masterKey: MasterKey; clock: Clock; providers: ProviderLookup; reader: SecretReader; log?: Logger | undefined }) {
  const log = deps.log?.child({ component: "engines" });
  const repo = createEngineRepository(deps.db.prisma);
  const vault = createRootVault({ keys: createServerKeys({ prisma: deps.db.prisma, masterKey: deps.masterKey }), reader: deps.reader });
  const sources = createEngineSources({ repo, vault, providers: deps.providers, clock: deps.clock, log });
  return {
    repo,
    vault,
    sources,
    log,
    /** For createLeaseModule: current root credentials for engine leases, and engine-backed Phase secrets. */
    forLeases: { currentConfig: sources.currentConfig, bridge: createDefinitionBridge(sources) },
  };
}

export function createEngineModule(deps: {
  base: ReturnType<typeof createEngineSourcesModule>;
  leases: LeaseModule;
  clock: Clock;
  canReadEnvironment(principal: Principal, environmentId: string): Promise<boolean>;
}) {
  const { repo, vault, sources, log } = deps.base;
  const l = deps.leases.forEngines;
  const { clock } = deps;
  const bulk = createBulkRevoker({ queries: l.queries, revoker: l.revoker, clock, instanceId: l.instanceId, claimTtlMs: l.claimTtlMs, providerTimeoutMs: l.providerTimeoutMs, paused: l.paused, log });
  return {
    engines: createEngineService({ repo, sources, vault, bulk, clock, canReadEnvironment: deps.canReadEnvironment }),
    roles: createRoleService({ repo, sources, clock }),
    creds: createCredsService({ sources, mint: l.mint }),
    leases: createEngineLeaseService({ repo: l.repo, queries: l.queries, leases: deps.leases.leases, engines: repo, sources, bulk, clock }),
    rotation: createRootRotation({ repo, sources, vault, clock, faults: l.faults, providerTimeoutMs: l.providerTimeoutMs, log }),
    sources,
    /** Engine names by id, for rendering leases. */
    async engineNames(): Promise<Map<string, string>> {
      return new Map((await repo.listEngines()).map((e) => [e.id, e.name]));
    },
  };
}

export type EngineModule = ReturnType<typeof createEngineModule>;
