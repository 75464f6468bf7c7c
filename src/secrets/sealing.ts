import type { Bytes } from "../crypto/aead.js";
import type { EnvironmentKeys } from "../crypto/envelope.js";
import { openStringsWithKey } from "../crypto/aead-batch.js";
import { fieldAd, openField, sealField, type SealedField } from "../crypto/fields.js";
import type { SecretRow } from "./repository.js";

/**
 * Every secret field at rest is sealed under its environment's data key, with associated data
 * naming the table, the row id and the field: a ciphertext copied to another row or field fails.
 */
const KEY: SealedField = { table: "secret", field: "key" };
const VALUE: SealedField = { table: "secret", field: "value" };
const COMMENT: SealedField = { table: "secret", field: "comment" };
const OVERRIDE: SealedField = { table: "personal_secret", field: "value" };

export const sealKey = (keys: EnvironmentKeys, secretId: string, key: string): Bytes => sealField(keys, KEY, secretId, key);
export const sealValue = (keys: EnvironmentKeys, secretId: string, value: string): Bytes => sealField(keys, VALUE, secretId, value);
export const sealComment = (keys: EnvironmentKeys, secretId: string, comment: string): Bytes =>
  sealField(keys, COMMENT, secretId, comment);
export const sealOverride = (keys: EnvironmentKeys, overrideId: string, value: string): Bytes =>
  sealField(keys, OVERRIDE, overrideId, value);

export const openValue = (keys: EnvironmentKeys, secretId: string, blob: Uint8Array): string => openField(keys, VALUE, secretId, blob);

/** A row with its fields decrypted (references not yet resolved). */
export interface OpenedSecret {
  row: SecretRow;
  key: string;
  value: string;
  comment: string;
  override: { id: string; value: string; isActive: boolean; createdAt: Date; updatedAt: Date } | null;
}

/**
 * Opens every row of a read in one batch (src/crypto/aead-batch.ts). Throws DecryptionError (a
 * 500) when any field was tampered with or moved to another row or field.
 */
export function openRows(keys: EnvironmentKeys, rows: readonly SecretRow[]): OpenedSecret[] {
  const requests = [];
  for (const r of rows) {
    requests.push(
      { blob: r.keyCipher, ad: fieldAd(KEY, r.id) },
      { blob: r.valueCipher, ad: fieldAd(VALUE, r.id) },
      { blob: r.commentCipher, ad: fieldAd(COMMENT, r.id) },
    );
    if (r.overrideId !== null && r.overrideCipher !== null) requests.push({ blob: r.overrideCipher, ad: fieldAd(OVERRIDE, r.overrideId) });
  }
  const plain = openStringsWithKey(keys.dataKey, requests);
  let i = 0;
  return rows.map((row) => {
    const [key, value, comment] = [plain[i++]!, plain[i++]!, plain[i++]!];
    const override =
      row.overrideId !== null && row.overrideCipher !== null
        ? {
            id: row.overrideId,
            value: plain[i++]!,
            isActive: row.overrideActive ?? true,
            createdAt: row.overrideCreatedAt ?? row.createdAt,
            updatedAt: row.overrideUpdatedAt ?? row.updatedAt,
          }
        : null;
    return { row, key, value, comment, override };
  });
}
