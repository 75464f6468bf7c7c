import type { AppRepository, EnvironmentRecord } from "../apps/repository.js";
import { keyDigest } from "../crypto/digest.js";
import type { MasterKey } from "../crypto/envelope.js";
import { splitPathAndKey } from "./paths.js";
import { parseReference } from "./references.js";
import type { SecretRepository } from "./repository.js";
import { openValue } from "./sealing.js";

/** Where one stored secret lives: app and environment by name, folder path, key. */
export interface SecretLocation {
  app: string;
  env: string;
  path: string;
  key: string;
}

/**
 * A secret named without any request context (an engine's `root_credentials_path`), in either form:
 *   `${app::env./path/KEY}` (or without `${}`)   a Phase cross-app reference
 *   `app/env/path/KEY`                          the same, with slashes (at least app/env/KEY)
 * Null when `ref` is neither.
 */
export function parseSecretLocation(ref: string): SecretLocation | null {
  const inner = /^\$\{(?!\{)([^{}]+)\}$/.exec(ref.trim())?.[1] ?? ref.trim();
  if (inner.includes("::")) {
    const t = parseReference(inner);
    if (!t?.app || !t.env) return null;
    const { path, key } = splitPathAndKey(t.ref);
    return key ? { app: t.app, env: t.env, path, key } : null;
  }
  if (inner.includes("${") || inner.startsWith("/")) return null;
  const parts = inner.split("/");
  if (parts.length < 3 || parts.some((p) => p === "")) return null;
  const [app, env, ...rest] = parts as [string, string, ...string[]];
  const { path, key } = splitPathAndKey(rest.join("/"));
  return { app, env, path, key };
}

export type SecretReader = ReturnType<typeof createSecretReader>;

/**
 * Server-side reads of one secret by location, for server-wide features (engine root
 * credentials). No caller is involved: whoever stores a location must have been checked for
 * access to its environment (see `environmentOf`). The key matches case-insensitively (keys are
 * stored upper-cased, so the guide's `.../root` names ROOT). The value is returned as stored:
 * references inside it are not expanded, and personal overrides never apply.
 */
export function createSecretReader(deps: {
  apps: Pick<AppRepository, "findAppsByName" | "findEnvironmentByName">;
  secrets: Pick<SecretRepository, "findLiveValue">;
  masterKey: MasterKey;
}) {
  async function environmentOf(loc: SecretLocation): Promise<EnvironmentRecord | null> {
    const apps = await deps.apps.findAppsByName(loc.app);
    if (apps.length !== 1) return null;
    return deps.apps.findEnvironmentByName(apps[0]!.id, loc.env);
  }

  return {
    environmentOf,
    /** The live secret's value, or null when the app, environment or secret does not exist. */
    async read(loc: SecretLocation): Promise<string | null> {
      const env = await environmentOf(loc);
      if (!env) return null;
      const keys = deps.masterKey.unwrap(env.id, env.wrappedKey);
      const row = await deps.secrets.findLiveValue(env.id, loc.path, keyDigest(loc.key, keys.salt));
      return row ? openValue(keys, row.id, row.valueCipher) : null;
    },
  };
}
