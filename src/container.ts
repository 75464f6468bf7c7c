import { createAppRepository } from "./apps/repository.js";
import { createAppService } from "./apps/service.js";
import type { AuditSink } from "./audit/events.js";
import { createAuditLogRepository } from "./audit/log-repository.js";
import { createAuditLogService } from "./audit/log-service.js";
import { createAuditRetention } from "./audit/retention.js";
import { createAuthenticator } from "./auth/authenticator.js";
import { createEnvironmentContextResolver } from "./auth/environment-context.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { MasterKey } from "./crypto/envelope.js";
import type { Database } from "./db/database.js";
import { createIdentityRepository } from "./identity/repository.js";
import { createIdentityService } from "./identity/service.js";
import { createEngineModule, createEngineSourcesModule } from "./engines/module.js";
import { createLeaseModule, lookupIn } from "./leases/module.js";
import type { Logger } from "./logger.js";
import { createPolicyRepository } from "./policies/repository.js";
import { createPolicyService } from "./policies/service.js";
import { createLeaseStats } from "./observability/lease-stats.js";
import { createMetrics, metricsEnabled } from "./observability/metrics.js";
import type { Provider } from "./providers/provider.js";
import { createProviderRegistry } from "./providers/registry.js";
import { createSecretReader } from "./secrets/reader.js";
import { createSecretRepository } from "./secrets/repository.js";
import { createSecretService } from "./secrets/service.js";

export interface CoreDeps {
  config: Config;
  db: Database;
  masterKey: MasterKey;
  clock: Clock;
  audit: AuditSink;
  log?: Logger;
  /** Providers added to (or replacing) the built-in ones, by id: tests wrap the real ones here. */
  extraProviders?: Provider[];
}

/** Wires repositories into services. Routes receive services only; nothing here listens. */
export function createContainer(deps: CoreDeps) {
  const { db, masterKey, clock, audit } = deps;
  const apps = createAppRepository(db);
  const identity = createIdentityRepository(db);
  const secretsRepo = createSecretRepository(db);
  const providers = createProviderRegistry({ aws: { clock }, extra: deps.extraProviders ?? [] });
  const metrics = createMetrics({ stats: createLeaseStats(db), clock, log: deps.log, processMetrics: metricsEnabled(deps.config) });
  const reader = createSecretReader({ apps, secrets: secretsRepo, masterKey });
  const engineBase = createEngineSourcesModule({ db, masterKey, clock, providers: lookupIn(providers), reader, log: deps.log });
  const leaseModule = createLeaseModule({
    config: deps.config, db, masterKey, clock, audit, apps, providers, log: deps.log, observer: metrics.revocations, engines: engineBase.forLeases,
  });
  const contexts = createEnvironmentContextResolver({
    apps,
    identity,
    // Phase's secret_id may name a static or a dynamic secret.
    secretEnvironment: async (id) => (await secretsRepo.findEnvironmentIdOfSecret(id)) ?? leaseModule.dynamicSecretEnvironment(id),
  });
  const policies = createPolicyService({ policies: createPolicyRepository(db), identity, clock, audit });
  return {
    ...deps,
    authenticator: createAuthenticator({ identity, clock }),
    contexts,
    appService: createAppService({ apps, masterKey }),
    identityService: createIdentityService({ identity, apps, clock, audit }),
    secretService: createSecretService({ secrets: secretsRepo, apps, contexts, masterKey, clock, audit }),
    providers,
    /** Dynamic secret definitions (src/dynamic). */
    dynamicSecrets: leaseModule.dynamicSecrets,
    /** Lease create/renew/revoke/force/list (src/leases). */
    leases: leaseModule.leases,
    /** Revokes expired and pending leases; started by the server after listen. */
    reaper: leaseModule.reaper,
    instanceId: leaseModule.instanceId,
    /** Access policies (src/policies): `allows()` for the /v1/dynamic/ routes, CRUD for /v1/policies/. */
    policies,
    /** Prometheus metrics of this server (its own registry). */
    metrics,
    /** GET /v1/audit/events: audit_events and lease_events as one stream; each read is itself recorded (audit.read). */
    auditLog: createAuditLogService({ log: createAuditLogRepository(db), apps, audit, clock }),
    /** Deletes events older than AUDIT_RETENTION_DAYS; started by the server after listen. */
    auditRetention: createAuditRetention({
      db,
      clock,
      audit,
      log: deps.log,
      settings: {
        days: deps.config.AUDIT_RETENTION_DAYS,
        schedule: deps.config.AUDIT_RETENTION_SCHEDULE,
        batchSize: deps.config.AUDIT_RETENTION_BATCH_SIZE,
      },
    }),
    /** The /v1/dynamic/ engine surface (src/engines). */
    engines: createEngineModule({ base: engineBase, leases: leaseModule, clock, canReadEnvironment: (p, envId) => contexts.canAccess(p, envId) }),
  };
}

export type Container = ReturnType<typeof createContainer>;
