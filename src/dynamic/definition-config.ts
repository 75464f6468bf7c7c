import { BadRequestError } from "../errors.js";
import type { ProviderLookup } from "../leases/revoker.js";
import type { Provider } from "../providers/provider.js";
import { connectionTestFailure } from "../providers/scrub.js";

/** The provider id of definitions backed by an engine role: config `{"engine": name, "role": name}`. */
export const ENGINE_PROVIDER = "engine";

/** Engine-backed definitions (src/engines/bridge.ts): checked on write, resolved to a real provider on use. */
export interface DefinitionBridge {
  /** The config to store, the provider the role maps onto (its key map) and the role's max TTL. */
  validate(config: Record<string, unknown>, verify: boolean): Promise<{ config: Record<string, unknown>; provider: Provider; maxTtl: number }>;
  /** The role's max TTL now (its engine's and its own), without reading root credentials. */
  maxTtl(config: Record<string, unknown>): Promise<number>;
  /** The provider and full config (the engine's current root credentials) a lease is minted with. */
  open(config: Record<string, unknown>): Promise<{ provider: Provider; config: unknown; engine: { id: string; role: string; maxTtl: number } }>;
}

/** A registered provider's config, checked against its schema and, with `verify`, tested live. */
export async function validConfig(provider: Provider, raw: Record<string, unknown>, verify: boolean): Promise<unknown> {
  const r = provider.configSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new BadRequestError(`Invalid config: ${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid value"}`);
  }
  const failure = verify ? await connectionTestFailure(provider, r.data) : null;
  if (failure !== null) throw new BadRequestError(`The connection test failed: ${failure}`);
  return r.data;
}

/**
 * Which provider a definition's `provider` names: a registered one, or an engine role through
 * the bridge (then ENGINE_PROVIDER).
 */
export function createDefinitionProviders(deps: {
  providers: ProviderLookup;
  /** Engine-backed definitions; without it, provider "engine" is unknown. */
  bridge?: DefinitionBridge | undefined;
}) {
  function bridge(): DefinitionBridge {
    if (!deps.bridge) throw new BadRequestError(`Unknown provider '${ENGINE_PROVIDER}'.`);
    return deps.bridge;
  }

  /** An engine-backed config: checked by the bridge, its max_ttl within the role's. */
  async function validEngineConfig(raw: Record<string, unknown>, verify: boolean, maxTtl: number) {
    const checked = await bridge().validate(raw, verify);
    if (maxTtl > checked.maxTtl) throw new BadRequestError(`max_ttl must not exceed the engine role's max_ttl (${checked.maxTtl} seconds).`);
    return checked;
  }

  function providerOf(id: string): Provider {
    const provider = deps.providers.get(id);
    if (!provider) throw new BadRequestError(`Unknown provider '${id}'.`);
    return provider;
  }

  return { bridge, validEngineConfig, providerOf };
}
