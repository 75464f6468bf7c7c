import { randomUUID } from "node:crypto";
import type { EnvironmentRecord } from "../apps/repository.js";
import { keyDigest } from "../crypto/digest.js";
import type { EnvironmentKeys } from "../crypto/envelope.js";
import { duplicateSecret } from "./errors.js";
import { folderChain, normalizePath, ROOT_PATH } from "./paths.js";
import type { OverrideRow } from "./repository-writes.js";
import { sealComment, sealKey, sealOverride, sealValue, type OpenedSecret } from "./sealing.js";
import type { WriteContext } from "./service.js";
import { cleanTagNames } from "./tags.js";
import type { Caller, CreateSecretInput, SecretView } from "./types.js";
import { newRow, secretEvent, toViews } from "./views.js";

/** Throws Phase's 409 when two of these would share (path, keyDigest). */
export function assertDistinctKeys(rows: { path: string; keyDigest: string }[]): void {
  const seen = new Set<string>();
  for (const r of rows) {
    const k = `${r.path}\u0000${r.keyDigest}`;
    if (seen.has(k)) throw duplicateSecret();
    seen.add(k);
  }
}

function newOverride(keys: EnvironmentKeys, secretId: string, userId: string, value: string, at: Date): OverrideRow {
  const id = randomUUID();
  return { id, secretId, userId, valueCipher: sealOverride(keys, id, value), isActive: true, createdAt: at, updatedAt: at };
}

/**
 * POST: keys upper-cased and digested, fields sealed before the transaction (the row id is made
 * first so the associated data binds to it); then, in one transaction: the duplicate check, tag
 * rules, folders, rows, tags and the caller's overrides. Nothing is written if anything fails.
 */
export async function createSecrets(ctx: WriteContext, caller: Caller, env: EnvironmentRecord, inputs: CreateSecretInput[]): Promise<SecretView[]> {
  const { keys, now, userId, deps } = ctx;
  const planned = inputs.map((input) => {
    const id = randomUUID();
    const key = input.key.toUpperCase();
    const comment = input.comment;
    const row = newRow({
      id,
      path: normalizePath(input.path ?? ROOT_PATH),
      keyDigest: keyDigest(input.key, keys.salt),
      keyCipher: sealKey(keys, id, key),
      valueCipher: sealValue(keys, id, input.value),
      commentCipher: sealComment(keys, id, comment),
      type: input.type,
      at: now,
    });
    // Phase: only users have overrides, and a new one is always active (isActive is ignored).
    const overrideRow: OverrideRow | null =
      userId && input.override ? newOverride(keys, id, userId, input.override.value, now) : null;
    const override = overrideRow ? { id: overrideRow.id, value: input.override!.value, isActive: true, createdAt: now, updatedAt: now } : null;
    const secret: OpenedSecret = { row, key, value: input.value, comment, override };
    return { secret, overrideRow, rawTags: input.tags ?? [] };
  });
  assertDistinctKeys(planned.map((p) => p.secret.row));

  await deps.secrets.transaction(async (tx) => {
    if (await tx.anyLiveKeyAt(env.id, planned.map((p) => p.secret.row), [])) throw duplicateSecret();
    for (const p of planned) p.secret.row.tags = cleanTagNames(p.rawTags).sort();
    const folders = await tx.ensureFolders(env.id, planned.flatMap((p) => folderChain(p.secret.row.path)), now);
    const tagIds = await tx.ensureTags(planned.flatMap((p) => p.secret.row.tags), now);
    for (const { secret } of planned) secret.row.folderId = folders.get(secret.row.path) ?? null;
    await tx.insertSecrets(
      planned.map(({ secret: { row } }) => ({
        id: row.id,
        environmentId: env.id,
        folderId: row.folderId,
        path: row.path,
        keyDigest: row.keyDigest,
        keyCipher: row.keyCipher,
        valueCipher: row.valueCipher,
        commentCipher: row.commentCipher,
        type: row.type,
        version: row.version,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      })),
    );
    await tx.linkTags(planned.flatMap(({ secret: { row } }) => row.tags.map((name) => ({ secretId: row.id, tagId: tagIds.get(name)! }))));
    await tx.insertOverrides(planned.flatMap((p) => (p.overrideRow ? [p.overrideRow] : [])));
  });

  const secrets = planned.map((p) => p.secret);
  deps.audit.record(secrets.map((s) => secretEvent("secret.create", caller, env, s.row, now, { type: s.row.type })));
  return toViews(env, secrets, ctx.sources);
}
