import { randomUUID } from "node:crypto";
import type { AppRepository } from "../apps/repository.js";
import { isUuid } from "../auth/environment-context.js";
import { isAdmin, type Principal } from "../auth/principal.js";
import type { Clock } from "../clock.js";
import type { MasterKey } from "../crypto/envelope.js";
import { BadRequestError, CodedError, ConflictError, ForbiddenError, NotFoundError } from "../errors.js";
import type { ProviderLookup } from "../leases/revoker.js";
import type { LeaseRepository } from "../leases/repository.js";
import type { Actor, LeaseRecord } from "../leases/types.js";
import { withCurrentRoot } from "../providers/connection.js";
import type { Provider, RevocationData } from "../providers/provider.js";
import { folderChain, normalizePath } from "../secrets/paths.js";
import { createDefinitionProviders, ENGINE_PROVIDER, validConfig, type DefinitionBridge } from "./definition-config.js";
import { createSchema, parse, updateSchema, type CreateDefinitionInput, type UpdateDefinitionInput } from "./input.js";
import { buildKeyMap, keyMapDigests, type StoredKeyMapEntry } from "./key-map.js";
import type { DefinitionChanges, DefinitionFilter, DefinitionRecord, DefinitionRepository } from "./repository.js";
import { openConfig, openKeyMap, sealConfig, sealKeyMap, toView, type DynamicSecretView } from "./sealing.js";

export { ENGINE_PROVIDER, type DefinitionBridge } from "./definition-config.js";
export { definitionFields, type CreateDefinitionInput, type UpdateDefinitionInput } from "./input.js";

const notFound = () => new NotFoundError("Dynamic secret not found");

/** A loaded definition, decrypted, for the lease service. */
export interface OpenedDefinition {
  record: DefinitionRecord;
  provider: Provider;
  config: unknown;
  keyMap: StoredKeyMapEntry[];
  /** Set when the definition is backed by an engine role: the config above is built from them. */
  engine?: { id: string; role: string; maxTtl: number } | undefined;
}

/** A listed definition and how to open it for a lease (from the row already read). */
export interface LeasableDefinition {
  view: DynamicSecretView;
  open(): Promise<OpenedDefinition>;
}

const NO_SECRET_FIELDS = { secretFields: [] as string[] };

/**
 * Dynamic secret definitions: which provider, with what (sealed) config, which output keys, and
 * the TTL bounds. Managing them needs Owner or Admin: a definition holds root credentials.
 * Leases carry their own snapshot of the config, so edits and deletion never strand a lease.
 */
export function createDefinitionService(deps: {
  definitions: DefinitionRepository;
  leases: Pick<LeaseRepository, "requestRevocationOfDefinition" | "requestRevocationOfEnvironments">;
  apps: Pick<AppRepository, "findEnvironment">;
  providers: ProviderLookup;
  masterKey: MasterKey;
  clock: Clock;
  /** Engine-backed definitions; without it, provider "engine" is unknown. */
  bridge?: DefinitionBridge | undefined;
}) {
  const { definitions, masterKey } = deps;
  const keysOf = (row: { environmentId: string; environment: { wrappedKey: Uint8Array } }) =>
    masterKey.unwrap(row.environmentId, row.environment.wrappedKey);
  const view = (row: DefinitionRecord) =>
    toView(row, keysOf(row), row.provider === ENGINE_PROVIDER ? NO_SECRET_FIELDS : deps.providers.get(row.provider));

  const { bridge, validEngineConfig, providerOf } = createDefinitionProviders(deps);

  function requireAdmin(p: Principal): void {
    if (!isAdmin(p)) throw new ForbiddenError("Only an Owner or Admin can manage dynamic secrets.");
  }

  async function findLive(id: string): Promise<DefinitionRecord> {
    const row = isUuid(id) ? await definitions.findLive(id) : null;
    if (!row) throw notFound();
    return row;
  }

  return {
    async create(principal: Principal, input: CreateDefinitionInput): Promise<DynamicSecretView> {
      requireAdmin(principal);
      const i = parse(createSchema, input);
      if (i.defaultTtl > i.maxTtl) throw new BadRequestError("default_ttl must not exceed max_ttl.");
      const env = await deps.apps.findEnvironment(i.environmentId);
      if (!env) throw new NotFoundError("Environment not found");
      const engineBacked = i.provider === ENGINE_PROVIDER ? await validEngineConfig(i.config, i.verifyConnection, i.maxTtl) : null;
      const provider = engineBacked?.provider ?? providerOf(i.provider);
      const config = engineBacked?.config ?? (await validConfig(provider, i.config, i.verifyConnection));
      const keyMap = buildKeyMap(provider.defaultKeyMap, i.keyMap);
      const keys = masterKey.unwrap(env.id, env.wrappedKey);
      const id = randomUUID();
      const path = normalizePath(i.path);
      const row = await definitions.create(
        {
          id,
          environmentId: env.id,
          path,
          name: i.name,
          description: i.description,
          provider: engineBacked ? ENGINE_PROVIDER : provider.id,
          configCipher: sealConfig(keys, id, config),
          keyMapCipher: sealKeyMap(keys, id, keyMap),
          keyDigests: keyMapDigests(keyMap, keys.salt),
          defaultTtl: i.defaultTtl,
          maxTtl: i.maxTtl,
        },
        folderChain(path),
        deps.clock.now(),
      );
      if (!row) throw new ConflictError("A secret with one of these key names already exists at this path.");
      return view(row);
    },

    /** Omitted secret config fields keep their stored values, so a client never needs to read them back. */
    async update(principal: Principal, id: string, input: UpdateDefinitionInput): Promise<DynamicSecretView> {
      requireAdmin(principal);
      const i = parse(updateSchema, input);
      const row = await findLive(id);
      const keys = keysOf(row);
      const engineBacked = row.provider === ENGINE_PROVIDER;
      const changes: DefinitionChanges = {};
      if (i.name !== undefined) changes.name = i.name;
      if (i.description !== undefined) changes.description = i.description;
      if (i.defaultTtl !== undefined) changes.defaultTtl = i.defaultTtl;
      if (i.maxTtl !== undefined) changes.maxTtl = i.maxTtl;
      if ((i.defaultTtl ?? row.defaultTtl) > (i.maxTtl ?? row.maxTtl)) throw new BadRequestError("default_ttl must not exceed max_ttl.");
      const maxTtl = i.maxTtl ?? row.maxTtl;
      let provider: Provider;
      if (engineBacked) {
        const stored = openConfig(keys, row.id, row.configCipher);
        const checked = await validEngineConfig(i.config ?? stored, i.config !== undefined && (i.verifyConnection ?? true), maxTtl);
        provider = checked.provider;
        if (i.config !== undefined) changes.configCipher = sealConfig(keys, row.id, checked.config);
      } else {
        provider = providerOf(row.provider);
        if (i.config !== undefined) {
          const stored = openConfig(keys, row.id, row.configCipher);
          const merged = { ...i.config };
          for (const f of provider.secretFields) if (merged[f] === undefined && stored[f] !== undefined) merged[f] = stored[f];
          changes.configCipher = sealConfig(keys, row.id, await validConfig(provider, merged, i.verifyConnection ?? true));
        }
      }
      if (i.keyMap !== undefined) {
        const current = openKeyMap(keys, row.id, row.keyMapCipher);
        const merged = buildKeyMap(provider.defaultKeyMap, [...i.keyMap, ...current.filter((c) => !i.keyMap!.some((k) => k.id === c.id))]);
        changes.keyMapCipher = sealKeyMap(keys, row.id, merged);
        changes.keyDigests = keyMapDigests(merged, keys.salt);
      }
      const updated = await definitions.update(row.id, row, changes);
      if (updated === "gone") throw notFound();
      if (!updated) throw new ConflictError("A secret with one of these key names already exists at this path.");
      return view(updated);
    },

    /** Soft delete; every live lease is then revoked by the reaper (and ends EXPIRED, as in Phase). */
    async delete(principal: Principal, id: string, actor: Actor): Promise<{ revokingLeases: number }> {
      requireAdmin(principal);
      const row = await findLive(id);
      const now = deps.clock.now();
      if (!(await definitions.softDelete(row.id, now))) throw notFound();
      const revokingLeases = await deps.leases.requestRevocationOfDefinition(row.id, now, {
        type: "revoke_requested",
        actor,
        metadata: { reason: "definition_deleted" },
      });
      return { revokingLeases };
    },

    /** The app holding these environments was deleted, its definitions with it: their live leases are revoked by the reaper. */
    async revokeLeasesOfDeletedEnvironments(environmentIds: string[], actor: Actor): Promise<number> {
      return deps.leases.requestRevocationOfEnvironments(environmentIds, deps.clock.now(), {
        type: "revoke_requested",
        actor,
        metadata: { reason: "definition_deleted", cause: "app_deleted" },
      });
    },

    async get(id: string): Promise<DynamicSecretView> {
      return view(await findLive(id));
    },

    /** Live definitions of an environment; Phase's filters (path exact, id, name exact). */
    async list(environmentId: string, filter: DefinitionFilter = {}): Promise<DynamicSecretView[]> {
      return (await liveRows(environmentId, filter)).map(view);
    },

    /**
     * `list`, each definition with the means to open it for a lease without reading it again
     * (Phase's GET …/dynamic/?lease=true leases every definition it lists).
     */
    async listForLeasing(environmentId: string, filter: DefinitionFilter = {}): Promise<LeasableDefinition[]> {
      return (await liveRows(environmentId, filter)).map((row) => ({ view: view(row), open: () => openRecord(row) }));
    },

    /**
     * For Phase's renewal: an engine-backed definition's bound from its role now (creation takes
     * the same), without reading root credentials; Infinity for other definitions, or when the
     * role can no longer be found (the definition's own max_ttl still applies).
     */
    async engineMaxTtl(id: string): Promise<number> {
      const row = await definitions.findLive(id);
      if (!row || row.provider !== ENGINE_PROVIDER) return Infinity;
      return bridge()
        .maxTtl(openConfig(keysOf(row), row.id, row.configCipher))
        .catch((err: unknown) => {
          if (err instanceof CodedError && (err.code === "engine_not_found" || err.code === "role_not_found")) return Infinity;
          throw err;
        });
    },

    /** For the lease service: the live definition, decrypted. */
    async open(id: string): Promise<OpenedDefinition> {
      return openRecord(await findLive(id));
    },

    /**
     * The revoker's and renewal's config for a lease of a definition (engine leases: see
     * src/engines): its snapshot with the definition's current root secrets while it points at the
     * same target (also once it is deleted: that is when all its leases are revoked), so a rotated
     * root password does not strand the leases made with the old one. Never throws (falls back to
     * the snapshot).
     */
    async currentConfig(lease: Pick<LeaseRecord, "dynamicSecretId" | "engineId" | "provider">, snapshot: unknown, revocation: RevocationData): Promise<unknown> {
      if (!lease.dynamicSecretId || lease.engineId) return snapshot;
      try {
        const row = await definitions.findEvenDeleted(lease.dynamicSecretId);
        const provider = row && row.provider === lease.provider ? deps.providers.get(row.provider) : undefined;
        if (!row || !provider) return snapshot;
        return withCurrentRoot(provider, snapshot, openConfig(keysOf(row), row.id, row.configCipher), revocation).config;
      } catch {
        return snapshot;
      }
    },

    /** For the secrets service: is this keyDigest a dynamic secret's key at (environment, path)? */
    isKeyDigestTaken(environmentId: string, path: string, keyDigest: string): Promise<boolean> {
      return definitions.isKeyDigestTaken(environmentId, normalizePath(path), [keyDigest]);
    },
  };

  async function liveRows(environmentId: string, filter: DefinitionFilter): Promise<DefinitionRecord[]> {
    if (filter.id !== undefined && !isUuid(filter.id)) return [];
    // No definition's path or name holds NUL (refused on write), and PostgreSQL refuses it as a parameter.
    if (filter.path?.includes("\u0000") || filter.name?.includes("\u0000")) return [];
    const path = filter.path === undefined ? undefined : normalizePath(filter.path);
    return definitions.list(environmentId, { ...filter, path });
  }

  /** A definition decrypted, with its provider (or its engine role's, through the bridge). */
  async function openRecord(record: DefinitionRecord): Promise<OpenedDefinition> {
    const keys = keysOf(record);
    if (record.provider === ENGINE_PROVIDER) {
      const opened = await bridge().open(openConfig(keys, record.id, record.configCipher));
      return { record, ...opened, keyMap: openKeyMap(keys, record.id, record.keyMapCipher) };
    }
    return {
      record,
      provider: providerOf(record.provider),
      config: openConfig(keys, record.id, record.configCipher),
      keyMap: openKeyMap(keys, record.id, record.keyMapCipher),
    };
  }
}

export type DefinitionService = ReturnType<typeof createDefinitionService>;
