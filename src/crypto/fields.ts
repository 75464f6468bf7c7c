import { openStringWithAd, seal, type Bytes } from "./aead.js";
import type { EnvironmentKeys } from "./envelope.js";

/**
 * Associated data for every sealed field: the table, the row id and the field name. Keep these
 * strings stable: changing one makes existing rows undecryptable.
 */
export type SealedField =
  | { table: "secret"; field: "key" | "value" | "comment" }
  | { table: "personal_secret"; field: "value" }
  | { table: "dynamic_secret"; field: "config" | "key_map" };

export function fieldAd(target: SealedField, rowId: string): string {
  return `leasehold/v1/${target.table}/${rowId}/${target.field}`;
}

export function sealField(keys: EnvironmentKeys, target: SealedField, rowId: string, plaintext: string): Bytes {
  return seal(keys.dataKey, plaintext, fieldAd(target, rowId));
}

const encoder = new TextEncoder();
/** Reused for every open: libsodium copies the associated data before `openField` returns. */
const adScratch = new Uint8Array(512);

/** Encodes into the scratch buffer (a fresh ArrayBuffer per call cost more than the string). */
function encodeAd(ad: string): Uint8Array {
  const { read, written } = encoder.encodeInto(ad, adScratch);
  return read === ad.length ? adScratch.subarray(0, written) : encoder.encode(ad);
}

export function openField(keys: EnvironmentKeys, target: SealedField, rowId: string, blob: Uint8Array): string {
  const ad = fieldAd(target, rowId);
  return openStringWithAd(keys.dataKey, blob, encodeAd(ad), ad);
}

