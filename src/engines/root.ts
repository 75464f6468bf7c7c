import { openString, seal, type Bytes } from "../crypto/aead.js";
import type { ServerKeys } from "../keys/server-keys.js";
import { parseSecretLocation, type SecretReader } from "../secrets/reader.js";
import { rootSchemas, type EngineKind, type RootCredentials } from "./plugins.js";

/** The sealed root credential fields of an engine row. */
export type RootField = "root_credentials" | "root_pending";

/** Associated data: a root ciphertext opens only on its own engine row and field. */
const rootAd = (engineId: string, field: RootField) => `leasehold/v1/dynamic_engine/${engineId}/${field}`;

export type PathRead = { ok: true; root: RootCredentials } | { ok: false; reason: string };

/**
 * Root credentials of engines: sealed inline ones (server key "engines") and those read, at each
 * use, from the Leasehold secret named by root_credentials_path, whose value is JSON such as
 * {"username": "...", "password": "..."} (database engines) or {"access_key_id", "secret_access_key"} (aws).
 */
export function createRootVault(deps: { keys: ServerKeys; reader: SecretReader }) {
  const key = () => deps.keys.get("engines");
  return {
    async seal(engineId: string, field: RootField, root: RootCredentials): Promise<Bytes> {
      return seal(await key(), JSON.stringify(root), rootAd(engineId, field));
    },

    async open(engineId: string, field: RootField, blob: Uint8Array): Promise<RootCredentials> {
      return JSON.parse(openString(await key(), blob, rootAd(engineId, field))) as RootCredentials;
    },

    /** The environment a root_credentials_path points into (for the access check on create), or null. */
    async environmentOf(ref: string): Promise<string | null> {
      const loc = parseSecretLocation(ref);
      return loc ? ((await deps.reader.environmentOf(loc))?.id ?? null) : null;
    },

    /** Reads and checks the credentials stored at `ref`; the reason never contains the value. */
    async readPath(kind: EngineKind, ref: string): Promise<PathRead> {
      const loc = parseSecretLocation(ref);
      if (!loc) return { ok: false, reason: "root_credentials_path must look like ${app::env./path/KEY} or app/env/path/KEY" };
      const value = await deps.reader.read(loc);
      if (value === null) return { ok: false, reason: `no secret '${loc.key}' at ${loc.path} in ${loc.app}/${loc.env}` };
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return { ok: false, reason: "the secret's value is not JSON" };
      }
      const r = rootSchemas[kind].safeParse(parsed);
      if (!r.success) {
        const fields = Object.keys(rootSchemas[kind].shape).join('", "');
        return { ok: false, reason: `the secret's value must be a JSON object with exactly "${fields}"` };
      }
      return { ok: true, root: r.data };
    },
  };
}

export type RootVault = ReturnType<typeof createRootVault>;
