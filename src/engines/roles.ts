import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import { formatDuration } from "./durations.js";
import { EngineErrors } from "./errors.js";
import { checkTtlOrder, parseRole } from "./input.js";
import { providerConfig, type RootCredentials } from "./plugins.js";
import type { EngineRecord, EngineRepository, RoleRecord } from "./repository.js";
import type { EngineSources } from "./sources.js";

/**
 * Roles of an engine. A role's settings are checked against the provider's config schema together
 * with the engine's connection (with stand-in root credentials: nothing connects here), so a bad
 * statement template is refused when the role is written, not when a lease is asked for.
 */
export function createRoleService(deps: { repo: EngineRepository; sources: EngineSources; clock: Clock }) {
  const { repo, sources } = deps;

  function checkAgainstProvider(engine: EngineRecord, settings: Record<string, unknown>): void {
    const standIn: RootCredentials = engine.type === "database" ? { username: "root", password: "x" } : { access_key_id: "AKIAXXXXXXXXXXXXXXXX", secret_access_key: "x" };
    const root = engine.rootCipher || engine.rootCredentialsPath ? standIn : null;
    sources.parsed(sources.providerOf(engine), providerConfig(engine.type, engine.config, root, settings));
  }

  return {
    async create(engineName: string, raw: unknown): Promise<{ engine: EngineRecord; role: RoleRecord }> {
      const engine = await sources.engineNamed(engineName);
      const r = parseRole(engine.plugin, raw);
      const maxTtl = r.maxTtl ?? engine.maxTtl;
      if (maxTtl > engine.maxTtl) {
        throw EngineErrors.ttlExceedsMax(`The role's max_ttl (${formatDuration(maxTtl)}) exceeds the engine's max_ttl (${formatDuration(engine.maxTtl)}).`, {
          max_ttl: formatDuration(engine.maxTtl),
        });
      }
      checkTtlOrder(r.defaultTtl ?? Math.min(engine.defaultTtl, maxTtl), maxTtl, "The role's");
      checkAgainstProvider(engine, r.settings);
      const role = await repo.createRole(
        { id: randomUUID(), engineId: engine.id, name: r.name, config: r.settings, defaultTtl: r.defaultTtl ?? null, maxTtl: r.maxTtl ?? null },
        deps.clock.now(),
        () => EngineErrors.roleExists(engine.name, r.name),
      );
      return { engine, role };
    },

    async get(engineName: string, roleName: string) {
      const engine = await sources.engineNamed(engineName);
      return { engine, role: await sources.roleOf(engine, roleName) };
    },

    async list(engineName: string) {
      const engine = await sources.engineNamed(engineName);
      return { engine, roles: await repo.listRoles(engine.id) };
    },

    /** Leases already minted from the role keep working and are revoked with their own snapshot. */
    async delete(engineName: string, roleName: string): Promise<void> {
      const engine = await sources.engineNamed(engineName);
      if (!(await repo.deleteRole(engine.id, roleName))) throw EngineErrors.roleNotFound(engine.name, roleName);
    },
  };
}

export type RoleService = ReturnType<typeof createRoleService>;
