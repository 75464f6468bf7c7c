import type { AppRepository } from "../apps/repository.js";
import type { AuditSink } from "../audit/events.js";
import type { EnvironmentContextResolver } from "../auth/environment-context.js";
import type { Clock } from "../clock.js";
import type { MasterKey } from "../crypto/envelope.js";
import type { SecretRepository } from "./repository.js";

// PLACEHOLDER: the secrets service is being written (issue #2).
export function createSecretService(_deps: {
  secrets: SecretRepository;
  apps: AppRepository;
  contexts: EnvironmentContextResolver;
  masterKey: MasterKey;
  clock: Clock;
  audit: AuditSink;
}) {
  return {};
}

export type SecretService = ReturnType<typeof createSecretService>;
