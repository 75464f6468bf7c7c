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
  const body = await client.request<unknown>({
    method: "GET",
    path: "/v1/secrets/",
    query: { app_id: q.appId, env: q.env, path: q.path || undefined, tags: q.tags || undefined },
  });
  if (!Array.isArray(body)) throw new CliError(EXIT.unavailable, "unexpected answer from the server: not a list of secrets");
  const seen = new Map<string, { value: string; path: string }>();
  for (const raw of body as WireSecret[]) {
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
