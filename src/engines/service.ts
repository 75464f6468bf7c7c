import { randomUUID } from "node:crypto";
import type { Principal } from "../auth/principal.js";
import type { Clock } from "../clock.js";
import type { Actor } from "../leases/types.js";
import { EngineErrors } from "./errors.js";
import { checkName, checkTtlOrder, ENGINE_DEFAULT_TTL, ENGINE_MAX_TTL, objectBody, parseEngineConfig, ttlField, type EngineConfigInput } from "./input.js";
import type { RootCredentials } from "./plugins.js";
import type { EngineChanges, EngineRecord, EngineRepository } from "./repository.js";
import type { BulkRevoker } from "./revocation.js";
import type { RootVault } from "./root.js";
import type { EngineSources } from "./sources.js";

export interface EngineServiceDeps {
  repo: EngineRepository;
  sources: EngineSources;
  vault: RootVault;
  bulk: BulkRevoker;
  clock: Clock;
  /** May this caller read secrets of that environment (root_credentials_path's)? */
  canReadEnvironment(principal: Principal, environmentId: string): Promise<boolean>;
}

/**
 * Engines: create (connection tested first: `400 invalid_config` with details on failure), read,
 * replace (PUT) or merge (PATCH), delete (every lease revoked first). Root credentials are sealed
 * with the server's "engines" key, or read from root_credentials_path at each use; never returned.
 */
export function createEngineService(deps: EngineServiceDeps) {
  const { repo, sources, vault } = deps;

  /** The root credentials the body gives (checked: path readable by the caller, value well-formed), or null (keep / none). */
  async function rootOfInput(principal: Principal, kind: EngineRecord["type"], c: EngineConfigInput): Promise<RootCredentials | null> {
    if (c.root.kind === "inline") return c.root.root;
    if (c.root.kind === "none") return null;
    const envId = await vault.environmentOf(c.root.path);
    if (envId && !(await deps.canReadEnvironment(principal, envId))) throw EngineErrors.permissionDenied("read the secret at root_credentials_path");
    const read = await vault.readPath(kind, c.root.path);
    if (!read.ok) throw EngineErrors.invalidConfig(`config.root_credentials_path: ${read.reason}.`);
    return read.root;
  }

  /** The connection test, as `400 invalid_config` with the provider's (scrubbed) reason. */
  async function testOrReject(engine: EngineRecord, root: RootCredentials | null): Promise<void> {
    const reason = await sources.test(engine, root);
    if (reason !== null) throw EngineErrors.invalidConfig(`The connection test failed: ${reason}`, { plugin: engine.plugin, reason });
  }

  function ttls(body: Record<string, unknown>, base: { defaultTtl: number; maxTtl: number }) {
    const defaultTtl = ttlField(body["default_ttl"], "default_ttl") ?? Math.min(base.defaultTtl, ttlField(body["max_ttl"], "max_ttl") ?? base.defaultTtl);
    const maxTtl = ttlField(body["max_ttl"], "max_ttl") ?? base.maxTtl;
    checkTtlOrder(defaultTtl, maxTtl, "The engine's");
    return { defaultTtl, maxTtl };
  }

  return {
    async create(principal: Principal, raw: unknown): Promise<EngineRecord> {
      const body = objectBody(raw);
      const name = checkName(body["name"], "name");
      const c = parseEngineConfig(body["type"], body["config"]);
      const kind = body["type"] as EngineRecord["type"];
      if (kind === "database" && c.root.kind === "none") throw EngineErrors.invalidConfig("Database engines need config.root_credentials or config.root_credentials_path.");
      const { defaultTtl, maxTtl } = ttls(body, { defaultTtl: ENGINE_DEFAULT_TTL, maxTtl: ENGINE_MAX_TTL });
      const id = randomUUID();
      const root = await rootOfInput(principal, kind, c);
      const draft: EngineRecord = {
        id, name, type: kind, plugin: c.plugin, provider: c.provider, config: c.settings,
        rootCipher: c.root.kind === "inline" ? await vault.seal(id, "root_credentials", c.root.root) : null,
        rootPendingCipher: null, rotationStartedAt: null, rootRotatedAt: null,
        rootCredentialsPath: c.root.kind === "path" ? c.root.path : null,
        defaultTtl, maxTtl, createdAt: deps.clock.now(), updatedAt: deps.clock.now(),
      };
      await testOrReject(draft, root);
      const { createdAt: _c, updatedAt: _u, rootPendingCipher: _p, rotationStartedAt: _r, rootRotatedAt: _rr, ...row } = draft;
      return repo.createEngine(row, deps.clock.now(), () => EngineErrors.engineExists(name));
    },

    /** PUT replaces the settings and TTLs (omitted TTLs: the defaults); PATCH changes what it names. Omitted root credentials are kept. */
    async update(principal: Principal, name: string, raw: unknown, mode: "put" | "patch"): Promise<EngineRecord> {
      const engine = await sources.engineNamed(name);
      const body = objectBody(raw);
      if (body["name"] !== undefined && body["name"] !== engine.name) throw EngineErrors.invalidRequest("An engine cannot be renamed.");
      if (body["type"] !== undefined && body["type"] !== engine.type) throw EngineErrors.invalidConfig("The type of an engine cannot be changed.");
      if (mode === "put" && body["config"] === undefined) throw EngineErrors.invalidConfig("config is required.");
      const base = { plugin: engine.plugin, settings: mode === "patch" ? engine.config : {} };
      const c = parseEngineConfig(engine.type, body["config"], base);
      const t = ttls(body, mode === "patch" ? engine : { defaultTtl: ENGINE_DEFAULT_TTL, maxTtl: ENGINE_MAX_TTL });
      const changes: EngineChanges = { config: c.settings, defaultTtl: t.defaultTtl, maxTtl: t.maxTtl };
      if (c.root.kind === "inline") {
        Object.assign(changes, { rootCipher: await vault.seal(engine.id, "root_credentials", c.root.root), rootCredentialsPath: null, rootPendingCipher: null, rotationStartedAt: null });
      } else if (c.root.kind === "path") {
        Object.assign(changes, { rootCipher: null, rootCredentialsPath: c.root.path, rootPendingCipher: null, rotationStartedAt: null });
      }
      const targetChanged = JSON.stringify(c.settings) !== JSON.stringify(engine.config);
      // The stored root credentials are never sent to a target they were not given for.
      if (targetChanged && c.root.kind === "none") {
        throw EngineErrors.invalidConfig("Changing the connection settings requires config.root_credentials or config.root_credentials_path again.");
      }
      if (targetChanged || c.root.kind !== "none") {
        await testOrReject({ ...engine, ...changes } as EngineRecord, await rootOfInput(principal, engine.type, c));
      }
      const updated = await repo.updateEngine(engine.id, changes, deps.clock.now());
      if (!updated) throw EngineErrors.engineNotFound(name);
      return updated;
    },

    /**
     * Revokes every lease of the engine (inline, through the one revocation path), then deletes it
     * with its roles. Leases whose revocation failed keep it: 409 engine_has_leases, retry later.
     */
    async delete(name: string, actor: Actor): Promise<{ revoked: number }> {
      const engine = await sources.engineNamed(name);
      const result = await deps.bulk.revoke({ engineId: engine.id }, actor);
      if (!(await repo.deleteEngineWithoutLiveLeases(engine.id))) {
        const pending = await deps.bulk.countLive({ engineId: engine.id });
        if (pending > 0) throw EngineErrors.engineHasLeases(pending);
        if (await repo.findEngineById(engine.id)) throw EngineErrors.engineHasLeases(0);
        throw EngineErrors.engineNotFound(name);
      }
      return { revoked: result.revoked };
    },

    get: (name: string) => sources.engineNamed(name),
    list: () => repo.listEngines(),
  };
}

export type EngineService = ReturnType<typeof createEngineService>;
