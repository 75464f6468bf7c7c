import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { ProviderLookup } from "../leases/revoker.js";
import type { LeaseRecord } from "../leases/types.js";
import { withCurrentRoot } from "../providers/connection.js";
import type { Provider, RevocationData } from "../providers/provider.js";
import { connectionTestFailure, scrub } from "../providers/scrub.js";
import { EngineErrors } from "./errors.js";
import { connectionPart, probeRole, providerConfig, type RootCredentials } from "./plugins.js";
import type { EngineRecord, EngineRepository, RoleRecord } from "./repository.js";
import type { RootVault } from "./root.js";

/** TTL bounds of an engine role, seconds: the role's, within the engine's. */
interface TtlBounds {
  defaultTtl: number;
  maxTtl: number;
}

export function boundsOf(engine: Pick<EngineRecord, "defaultTtl" | "maxTtl">, role: Pick<RoleRecord, "defaultTtl" | "maxTtl"> | null): TtlBounds {
  const maxTtl = Math.min(role?.maxTtl ?? engine.maxTtl, engine.maxTtl);
  return { maxTtl, defaultTtl: Math.min(role?.defaultTtl ?? engine.defaultTtl, maxTtl) };
}

/** An engine role ready to mint from: its provider and full config (current root credentials). */
interface OpenedRole {
  engine: EngineRecord;
  role: RoleRecord;
  provider: Provider;
  config: unknown;
  bounds: TtlBounds;
}

/**
 * Engines as the lease code uses them: lookups, the provider an engine maps onto, its root
 * credentials at the moment of use (inline, or read from root_credentials_path; a root secret
 * left pending by an interrupted rotate-root is confirmed here), and full provider configs.
 */
export function createEngineSources(deps: { repo: EngineRepository; vault: RootVault; providers: ProviderLookup; clock: Clock; log?: Logger | undefined }) {
  const { repo, vault } = deps;

  function providerOf(engine: Pick<EngineRecord, "provider" | "plugin">): Provider {
    const p = deps.providers.get(engine.provider);
    if (!p) throw EngineErrors.invalidConfig(`Plugin '${engine.plugin}' is not available on this server.`, { plugin: engine.plugin });
    return p;
  }

  /** The provider's parse of a config; a failure is the engine's or role's config being wrong. */
  function parsed(provider: Provider, raw: Record<string, unknown>): unknown {
    const r = provider.configSchema.safeParse(raw);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const secrets = Object.values(raw).filter((v): v is string => typeof v === "string" && v.length >= 4);
    const message = scrub(`${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid value"}`, secrets);
    throw EngineErrors.invalidConfig(`Invalid engine or role config: ${message}`);
  }

  /**
   * The engine's connection test with `root`, through the provider: null when it passes, else the
   * provider's reason (scrubbed of the root secrets). A config the provider refuses throws.
   */
  async function test(engine: EngineRecord, root: RootCredentials | null): Promise<string | null> {
    const provider = providerOf(engine);
    return connectionTestFailure(provider, parsed(provider, providerConfig(engine.type, engine.config, root, probeRole(engine.plugin))));
  }

  /** Does `root` pass the connection test? (a config the provider refuses counts as no) */
  function works(engine: EngineRecord, root: RootCredentials | null): Promise<boolean> {
    return test(engine, root).then((failure) => failure === null, () => false);
  }

  /**
   * A pending root secret means a rotate-root changed (or is changing) the target's root secret
   * and may not have stored it: if the pending one works, it becomes the root. Otherwise the
   * current one is still valid (the change never happened, or has not happened yet).
   */
  async function confirmPending(engine: EngineRecord, current: RootCredentials): Promise<RootCredentials> {
    const pendingCipher = engine.rootPendingCipher!;
    const pending = await vault.open(engine.id, "root_pending", pendingCipher);
    if (!(await works(engine, pending))) return current;
    const now = deps.clock.now();
    if (await repo.promotePending(engine.id, pendingCipher, await vault.seal(engine.id, "root_credentials", pending), now)) {
      deps.log?.warn({ engine: engine.name }, "confirmed the root secret of an interrupted rotate-root");
    }
    return pending;
  }

  /** The root credentials to use now; null for engines without any (AWS with role_arn only). */
  async function rootOf(engine: EngineRecord): Promise<RootCredentials | null> {
    if (engine.rootCredentialsPath) {
      const r = await vault.readPath(engine.type, engine.rootCredentialsPath);
      if (!r.ok) throw EngineErrors.engineUnreachable(`The engine's root credentials could not be read: ${r.reason}.`);
      return r.root;
    }
    if (!engine.rootCipher) return null;
    const current = await vault.open(engine.id, "root_credentials", engine.rootCipher);
    return engine.rootPendingCipher ? confirmPending(engine, current) : current;
  }

  async function engineNamed(name: string): Promise<EngineRecord> {
    const engine = await repo.findEngine(name);
    if (!engine) throw EngineErrors.engineNotFound(name);
    return engine;
  }

  async function roleOf(engine: EngineRecord, name: string): Promise<RoleRecord> {
    const role = await repo.findRole(engine.id, name);
    if (!role) throw EngineErrors.roleNotFound(engine.name, name);
    return role;
  }

  async function openRole(engine: EngineRecord, role: RoleRecord): Promise<OpenedRole> {
    const provider = providerOf(engine);
    const config = parsed(provider, providerConfig(engine.type, engine.config, await rootOf(engine), role.config));
    return { engine, role, provider, config, bounds: boundsOf(engine, role) };
  }

  return {
    providerOf,
    parsed,
    test,
    works,
    rootOf,
    engineNamed,
    roleOf,
    openRole,

    async open(engineName: string, roleName: string): Promise<OpenedRole> {
      const engine = await engineNamed(engineName);
      return openRole(engine, await roleOf(engine, roleName));
    },

    /**
     * The revoker's and renewal's config for a lease: its snapshot with the engine's current
     * connection and root, unless the engine now points at another target (then the snapshot's).
     */
    async currentConfig(lease: LeaseRecord, snapshot: unknown, revocation: RevocationData): Promise<unknown> {
      if (!lease.engineId) return snapshot;
      try {
        const engine = await repo.findEngineById(lease.engineId);
        const provider = deps.providers.get(lease.provider);
        if (!engine || !provider) return snapshot;
        // As the engine is now, fields it no longer has included (a removed endpoint is another target).
        const current = connectionPart(engine.type, engine.config, await rootOf(engine));
        const { config, sameTarget } = withCurrentRoot(provider, snapshot, current, revocation);
        if (!sameTarget) deps.log?.warn({ leaseId: lease.id, engine: engine.name }, "the engine points at another target than this lease's; using the lease's snapshot");
        return config;
      } catch (err) {
        deps.log?.warn({ leaseId: lease.id, error: err instanceof Error ? err.message : String(err) }, "engine root credentials unavailable; using the lease's snapshot");
        return snapshot;
      }
    },
  };
}

export type EngineSources = ReturnType<typeof createEngineSources>;
