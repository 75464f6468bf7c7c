import type { AppRepository, EnvironmentRecord } from "../apps/repository.js";
import type { AuditSink } from "../audit/events.js";
import type { EnvironmentContextResolver } from "../auth/environment-context.js";
import type { Principal } from "../auth/principal.js";
import type { Clock } from "../clock.js";
import { keyDigest } from "../crypto/digest.js";
import type { EnvironmentKeys, MasterKey } from "../crypto/envelope.js";
import { createSecrets } from "./create.js";
import { secretsNotFoundInEnvironment } from "./errors.js";
import { normalizePath } from "./paths.js";
import type { ReferenceSources } from "./references.js";
import type { SecretRepository } from "./repository.js";
import { openRows, openValue } from "./sealing.js";
import type { Caller, CreateSecretInput, ListFilter, SecretView, UpdateSecretInput } from "./types.js";
import { updateSecrets } from "./update.js";
import { byPathThenCreation, readEvent, secretEvent, toViews } from "./views.js";

export interface SecretServiceDeps {
  secrets: SecretRepository;
  apps: Pick<AppRepository, "findAppsByName" | "findEnvironmentByName">;
  contexts: Pick<EnvironmentContextResolver, "canAccess">;
  masterKey: MasterKey;
  clock: Clock;
  audit: AuditSink;
}

/** What the write paths share: keys, time, the repository and how to build views. */
export interface WriteContext {
  deps: SecretServiceDeps;
  keys: EnvironmentKeys;
  now: Date;
  /** The caller's user id when it is a user (personal overrides), else null. */
  userId: string | null;
  sources: ReferenceSources;
}

export const userIdOf = (p: Principal): string | null => (p.kind === "user" ? p.id : null);

/**
 * Phase's static secrets: list, create, update, delete in one environment the caller was already
 * authorised for. Every write is one transaction; values are sealed under the environment's key.
 */
export function createSecretService(deps: SecretServiceDeps) {
  const unwrap = (env: EnvironmentRecord) => deps.masterKey.unwrap(env.id, env.wrappedKey);

  /** Reference lookups for one request, as the caller (access to other environments is checked). */
  const sourcesFor = (principal: Principal): ReferenceSources => ({
    findAppsByName: (name) => deps.apps.findAppsByName(name),
    findEnvironmentByName: (appId, name) => deps.apps.findEnvironmentByName(appId, name),
    canAccess: (environmentId) => deps.contexts.canAccess(principal, environmentId),
    unwrap,
    async findValue(env, keys, path, digest) {
      const row = await deps.secrets.findLiveValue(env.id, path, digest);
      return row ? openValue(keys, row.id, row.valueCipher) : null;
    },
  });

  const writeContext = (caller: Caller, env: EnvironmentRecord): WriteContext => ({
    deps,
    keys: unwrap(env),
    now: deps.clock.now(),
    userId: userIdOf(caller.principal),
    sources: sourcesFor(caller.principal),
  });

  return {
    /** Live secrets of the environment matching every given filter (tags: ANY of them). */
    async list(caller: Caller, env: EnvironmentRecord, filter: ListFilter): Promise<SecretView[]> {
      const keys = unwrap(env);
      const rows = await deps.secrets.listLive(env.id, userIdOf(caller.principal), {
        path: filter.path !== undefined ? normalizePath(filter.path) : undefined,
        keyDigest: filter.key !== undefined ? keyDigest(filter.key, keys.salt) : undefined,
        tagNames: filter.tags,
      });
      const opened = openRows(keys, rows).sort(byPathThenCreation);
      const views = await toViews(env, opened, sourcesFor(caller.principal));
      if (opened.length > 0) deps.audit.record([readEvent(caller, env, opened.map((s) => s.row), deps.clock.now())]);
      return views;
    },

    create: (caller: Caller, env: EnvironmentRecord, inputs: CreateSecretInput[]) => createSecrets(writeContext(caller, env), caller, env, inputs),

    update: (caller: Caller, env: EnvironmentRecord, inputs: UpdateSecretInput[]) => updateSecrets(writeContext(caller, env), caller, env, inputs),

    /** Soft-deletes all of `ids` or, if any is not a live secret of this environment, none. */
    async remove(caller: Caller, env: EnvironmentRecord, ids: string[]): Promise<number> {
      const now = deps.clock.now();
      const deleted = await deps.secrets.transaction(async (tx) => {
        const rows = await tx.lockLive(env.id, ids, null);
        const found = new Set(rows.map((r) => r.id));
        const missing = [...new Set(ids)].filter((id) => !found.has(id.toLowerCase()));
        if (missing.length > 0) throw secretsNotFoundInEnvironment(missing);
        await tx.softDelete([...found], now);
        return rows;
      });
      deps.audit.record(deleted.map((r) => secretEvent("secret.delete", caller, env, r, now)));
      return deleted.length;
    },
  };
}

export type SecretService = ReturnType<typeof createSecretService>;
