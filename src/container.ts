import { createAppRepository } from "./apps/repository.js";
import { createAppService } from "./apps/service.js";
import type { AuditSink } from "./audit/events.js";
import { createAuthenticator } from "./auth/authenticator.js";
import { createEnvironmentContextResolver } from "./auth/environment-context.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { MasterKey } from "./crypto/envelope.js";
import type { Database } from "./db/database.js";
import { createIdentityRepository } from "./identity/repository.js";
import { createIdentityService } from "./identity/service.js";
import { createSecretRepository } from "./secrets/repository.js";
import { createSecretService } from "./secrets/service.js";

export interface CoreDeps {
  config: Config;
  db: Database;
  masterKey: MasterKey;
  clock: Clock;
  audit: AuditSink;
}

/** Wires repositories into services. Routes receive services only; nothing here listens. */
export function createContainer(deps: CoreDeps) {
  const { db, masterKey, clock, audit } = deps;
  const apps = createAppRepository(db.prisma);
  const identity = createIdentityRepository(db.prisma);
  const secretsRepo = createSecretRepository(db.prisma);
  const contexts = createEnvironmentContextResolver({
    apps,
    identity,
    secretEnvironment: (id) => secretsRepo.findEnvironmentIdOfSecret(id),
  });
  return {
    ...deps,
    authenticator: createAuthenticator({ identity, clock }),
    contexts,
    appService: createAppService({ apps, masterKey }),
    identityService: createIdentityService({ identity, apps, clock }),
    secretService: createSecretService({ secrets: secretsRepo, apps, contexts, masterKey, clock, audit }),
  };
}

export type Container = ReturnType<typeof createContainer>;
