import type { Logger } from "pino";
import { withTimeout } from "../async.js";
import type { Clock } from "../clock.js";
import type { FaultInjector } from "../leases/faults.js";
import { randomString, URL_SAFE } from "../providers/random.js";
import { isUnreachable } from "./creds.js";
import { EngineErrors } from "./errors.js";
import { probeRole, providerConfig } from "./plugins.js";
import type { EngineRecord, EngineRepository } from "./repository.js";
import type { RootVault } from "./root.js";
import type { EngineSources } from "./sources.js";

/**
 * rotate-root, crash-safe: the new root secret is stored (sealed, as "pending") BEFORE the target
 * is changed, and becomes the root only after the target confirmed the change. Whatever stops us
 * in between, both secrets are kept; the next use of the engine (sources.rootOf) or the next
 * rotate-root tries the pending one and keeps whichever works, so a crash never locks us out.
 * Engines whose root credentials come from root_credentials_path are refused: the secret's owner
 * rotates them (change the password on the target, then update the secret; the engine reads the
 * new value at its next use).
 */
export function createRootRotation(deps: {
  repo: EngineRepository;
  sources: EngineSources;
  vault: RootVault;
  clock: Clock;
  faults: FaultInjector;
  providerTimeoutMs: number;
  log?: Logger | undefined;
}) {
  const { repo, sources, vault, clock } = deps;
  /** A pending secret older than this belongs to a rotation that died: it may be dropped. */
  const staleMs = 2 * deps.providerTimeoutMs;

  async function reload(engine: EngineRecord): Promise<EngineRecord> {
    const fresh = await repo.findEngineById(engine.id);
    if (!fresh) throw EngineErrors.engineNotFound(engine.name);
    return fresh;
  }

  /** An earlier rotation left a pending secret: confirm it (it works) or drop it (stale, never applied). */
  async function settlePending(engine: EngineRecord): Promise<EngineRecord> {
    await sources.rootOf(engine); // promotes the pending secret when it works
    const fresh = await reload(engine);
    if (!fresh.rootPendingCipher) return fresh;
    const started = fresh.rotationStartedAt?.getTime() ?? 0;
    if (clock.now().getTime() - started < staleMs) throw EngineErrors.rotationInProgress();
    await repo.dropPending(fresh.id, fresh.rootPendingCipher, clock.now());
    deps.log?.warn({ engine: engine.name }, "dropped the pending root secret of a rotate-root that never applied it");
    return reload(fresh);
  }

  return {
    async rotate(engineName: string): Promise<EngineRecord> {
      let engine = await sources.engineNamed(engineName);
      if (engine.rootCredentialsPath) {
        throw EngineErrors.rotationUnsupported(
          "This engine reads its root credentials from root_credentials_path: rotate that secret instead (change the password on the target, then update the secret's value); the engine uses the new value at its next connection.",
        );
      }
      const provider = sources.providerOf(engine);
      if (!provider.rotateRoot || engine.type !== "database") throw EngineErrors.rotationUnsupported(`Plugin '${engine.plugin}' does not support root rotation.`);
      if (!engine.rootCipher) throw EngineErrors.rotationUnsupported("This engine has no stored root credentials to rotate.");
      if (engine.rootPendingCipher) engine = await settlePending(engine);

      const current = await vault.open(engine.id, "root_credentials", engine.rootCipher!);
      const next = { ...current, password: randomString(32, URL_SAFE) };
      const pending = await vault.seal(engine.id, "root_pending", next);
      // 1. Keep the new secret before anything changes upstream (refused while another rotation runs).
      if (!(await repo.setPending(engine.id, pending, clock.now()))) throw EngineErrors.rotationInProgress();

      // 2. Change it on the target, connected with the current one.
      const config = sources.parsed(provider, providerConfig(engine.type, engine.config, current, probeRole(engine.plugin)));
      try {
        const ms = deps.providerTimeoutMs;
        await withTimeout(provider.rotateRoot(config, next.password), ms, () => new Error(`The target did not answer within ${ms} ms.`));
      } catch (err) {
        // Did the change happen? If the current secret still logs in, it did not: forget the new one.
        const unchanged = await sources.works(engine, current);
        if (unchanged) await repo.dropPending(engine.id, pending, clock.now());
        deps.log?.error({ engine: engine.name, error: err instanceof Error ? err.message : String(err), unchanged }, "rotate-root failed");
        throw isUnreachable(err) ? EngineErrors.engineUnreachable("The engine's root credentials could not reach the target system.") : EngineErrors.rotationFailed();
      }
      deps.faults("engine-root-rotated");

      // 3. The target confirmed: the new secret is the root.
      const now = clock.now();
      const rootCipher = await vault.seal(engine.id, "root_credentials", next);
      const updated = await repo.updateEngine(engine.id, { rootCipher, rootPendingCipher: null, rotationStartedAt: null, rootRotatedAt: now }, now);
      if (!updated) throw EngineErrors.engineNotFound(engine.name);
      deps.log?.info({ engine: engine.name }, "engine root credentials rotated");
      return updated;
    },
  };
}

export type RootRotation = ReturnType<typeof createRootRotation>;
