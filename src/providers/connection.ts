import type { Provider, RevocationData } from "./provider.js";

type Config = Record<string, unknown>;

/** Do two configs of `provider` make credentials in the same place (see ConnectionFields)? */
export function sameTarget(provider: Pick<Provider, "connection">, a: unknown, b: unknown): boolean {
  return provider.connection.target.every((f) => JSON.stringify((a as Config)[f]) === JSON.stringify((b as Config)[f]));
}

/**
 * A lease's config snapshot with the root secrets of `current` (its definition's or engine's
 * config now), when both point at the same target (and the lease's revocation data holds what
 * the provider checks new credentials against, `rootNeeds`); otherwise the snapshot as it is,
 * since credentials for another server or account cannot remove what was made with the snapshot's.
 */
export function withCurrentRoot(
  provider: Pick<Provider, "connection">,
  snapshot: unknown,
  current: unknown,
  revocation: RevocationData | undefined,
): { config: unknown; sameTarget: boolean } {
  if (!sameTarget(provider, snapshot, current)) return { config: snapshot, sameTarget: false };
  const needs = provider.connection.rootNeeds;
  if (needs !== undefined && revocation?.[needs] === undefined) return { config: snapshot, sameTarget: true };
  const config: Config = { ...(snapshot as Config) };
  for (const f of provider.connection.root) {
    const v = (current as Config)[f];
    if (v === undefined) delete config[f];
    else config[f] = v;
  }
  return { config, sameTarget: true };
}
