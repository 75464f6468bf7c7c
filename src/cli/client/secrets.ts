import { CliError, EXIT } from "./errors.js";
import type { ApiClient } from "./http.js";
import type { Entries } from "./formats.js";

export interface SecretsQuery {
  appId: string;
  env: string;
  /** undefined or "" = every folder. */
  path: string | undefined;
  tags: string | undefined;
}

/** The fields of Phase's secret object the CLI reads. */
interface WireSecret {
  key: string;
  value: string;
  path: string;
  override?: { value: string; isActive: boolean } | null;
}

/**
 * GET /v1/secrets/ and the key/value pairs to hand out, sorted by key (code-unit order). The server
 * has resolved references already; an active personal override (user tokens only) replaces the
 * value, as Phase's Terraform provider does. Reading every folder, one key in two folders is an
 * error: which value a program would get must not depend on row order.
 */
export async function fetchSecrets(client: ApiClient, q: SecretsQuery): Promise<Entries> {
  return (await fetchWithLeases(client, q, null)).entries();
}

/** A lease `fetchWithLeases` took: the command's credentials until it is revoked or expires. */
export interface TakenLease {
  id: string;
  expiresAt: string;
}

/**
 * `fetchSecrets`, and with `leaseTtl` (seconds, or undefined for each definition's default) a fresh
 * lease on every dynamic secret at the path too (Phase's `dynamic=true&lease=true`), whose
 * credentials join the entries. Phase lists dynamic secrets by path only, tags aside. `entries()`
 * throws when a key is defined twice: call it where the leases will be revoked either way.
 */
export async function fetchWithLeases(
  client: ApiClient,
  q: SecretsQuery,
  leaseTtl: string | undefined | null,
): Promise<{ leases: TakenLease[]; entries(): Entries }> {
  const leasing = leaseTtl !== null;
  const body = await client.request<unknown>({
    method: "GET",
    path: "/v1/secrets/",
    query: {
      app_id: q.appId, env: q.env, path: q.path || undefined, tags: q.tags || undefined,
      ...(leasing ? { dynamic: "true", lease: "true", lease_ttl: leaseTtl } : {}),
    },
  });
  if (!Array.isArray(body)) throw new CliError(EXIT.unavailable, "unexpected answer from the server: not a list of secrets");
  const leases: TakenLease[] = [];
  const credentials: { key: string; value: string; path: string }[] = [];
  const statics: WireSecret[] = [];
  for (const raw of body as (WireSecret & WireDynamic)[]) {
    if (raw && typeof raw.key !== "string" && raw.lease && typeof raw.lease.id === "string") {
      leases.push({ id: raw.lease.id, expiresAt: raw.lease.expiresAt });
      for (const c of raw.lease.credentials ?? []) credentials.push({ key: c.key, value: c.value, path: `${raw.path} (lease ${raw.lease.id})` });
    } else statics.push(raw);
  }
  return { leases, entries: () => entriesOf([...statics, ...credentials]) };
}

/** The fields of Phase's dynamic secret object `run --leases` reads. */
interface WireDynamic {
  path: string;
  lease?: { id: string; expiresAt: string; credentials?: { key: string; value: string }[] } | null;
}

function entriesOf(body: WireSecret[]): Entries {
  const seen = new Map<string, { value: string; path: string }>();
  for (const raw of body) {
    if (typeof raw?.key !== "string" || typeof raw.value !== "string") throw new CliError(EXIT.unavailable, "unexpected answer from the server: a secret without key or value");
    const value = raw.override?.isActive && typeof raw.override.value === "string" ? raw.override.value : raw.value;
    const earlier = seen.get(raw.key);
    if (earlier) {
      const [a, b] = [earlier.path, raw.path].sort();
      throw new CliError(EXIT.data, `${raw.key} is defined in both ${a} and ${b}; choose one with --path`);
    }
    seen.set(raw.key, { value, path: raw.path });
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, v.value]);
}
