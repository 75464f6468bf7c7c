import type { Bytes } from "../crypto/aead.js";
import type { EnvironmentKeys } from "../crypto/envelope.js";
import { openField, sealField } from "../crypto/fields.js";
import type { Provider } from "../providers/provider.js";
import type { DefinitionRecord } from "./repository.js";
import type { StoredKeyMapEntry } from "./key-map.js";

const CONFIG = { table: "dynamic_secret", field: "config" } as const;
const KEY_MAP = { table: "dynamic_secret", field: "key_map" } as const;

export const sealConfig = (keys: EnvironmentKeys, id: string, config: unknown): Bytes =>
  sealField(keys, CONFIG, id, JSON.stringify(config));

export const openConfig = (keys: EnvironmentKeys, id: string, blob: Uint8Array): Record<string, unknown> =>
  JSON.parse(openField(keys, CONFIG, id, blob)) as Record<string, unknown>;

export const sealKeyMap = (keys: EnvironmentKeys, id: string, map: StoredKeyMapEntry[]): Bytes =>
  sealField(keys, KEY_MAP, id, JSON.stringify(map));

export const openKeyMap = (keys: EnvironmentKeys, id: string, blob: Uint8Array): StoredKeyMapEntry[] =>
  JSON.parse(openField(keys, KEY_MAP, id, blob)) as StoredKeyMapEntry[];

/** A definition as services and the HTTP layer see it: decrypted, with secret config fields left out. */
export interface DynamicSecretView {
  id: string;
  name: string;
  description: string;
  environmentId: string;
  appId: string;
  folderId: string | null;
  path: string;
  provider: string;
  defaultTtl: number;
  maxTtl: number;
  keyMap: { id: string; keyName: string; keyDigest: string; masked: boolean }[];
  /** Non-secret config fields only (provider.secretFields never leave the server). */
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export function withoutSecretFields(config: Record<string, unknown>, provider: Pick<Provider, "secretFields"> | undefined): Record<string, unknown> {
  if (!provider) return {}; // unknown provider: we cannot tell what is secret, so show nothing
  return Object.fromEntries(Object.entries(config).filter(([k]) => !provider.secretFields.includes(k)));
}

export function toView(row: DefinitionRecord, keys: EnvironmentKeys, provider: Pick<Provider, "secretFields"> | undefined): DynamicSecretView {
  const map = openKeyMap(keys, row.id, row.keyMapCipher);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    environmentId: row.environmentId,
    appId: row.environment.appId,
    folderId: row.folderId,
    path: row.path,
    provider: row.provider,
    defaultTtl: row.defaultTtl,
    maxTtl: row.maxTtl,
    keyMap: map.map((e, i) => ({ id: e.id, keyName: e.key_name, keyDigest: row.keyDigests[i] ?? "", masked: e.masked })),
    config: withoutSecretFields(openConfig(keys, row.id, row.configCipher), provider),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    deletedAt: row.deletedAt,
  };
}
