import { randomUUID } from "node:crypto";
import type { EnvironmentRecord } from "../apps/repository.js";
import { keyDigest } from "../crypto/digest.js";
import { assertDistinctKeys } from "./create.js";
import { duplicateSecret, sealedCannotBeUnsealed, secretNotFound } from "./errors.js";
import { folderChain, normalizePath } from "./paths.js";
import type { SecretChanges } from "./repository-writes.js";
import { openRows, sealComment, sealKey, sealOverride, sealValue, type OpenedSecret } from "./sealing.js";
import type { WriteContext } from "./service.js";
import { cleanTagNames } from "./tags.js";
import type { Caller, SecretView, UpdateSecretInput } from "./types.js";
import { secretEvent, toViews } from "./views.js";

type Field = "key" | "value" | "comment" | "path" | "type" | "tags" | "override";

interface Pending {
  secret: OpenedSecret;
  original: { path: string; keyDigest: string };
  changed: Set<Field>;
  rawTags?: string[];
}

/**
 * PUT, in one transaction: lock the secrets (404 for any that is not a live secret of this
 * environment), apply each entry in order (sealed secrets keep their value and type; the version
 * goes up on every entry), refuse duplicates against the secrets' real paths, then write.
 */
export async function updateSecrets(ctx: WriteContext, caller: Caller, env: EnvironmentRecord, inputs: UpdateSecretInput[]): Promise<SecretView[]> {
  const { keys, now, userId, deps } = ctx;
  const events: ReturnType<typeof secretEvent>[] = [];

  const pending = await deps.secrets.transaction(async (tx) => {
    const rows = await tx.lockLive(env.id, inputs.map((i) => i.id), userId);
    const byId = new Map<string, Pending>();
    const opened = openRows(keys, rows);
    rows.forEach((r, i) => byId.set(r.id, { secret: opened[i]!, original: { path: r.path, keyDigest: r.keyDigest }, changed: new Set() }));
    for (const input of inputs) {
      const p = byId.get(input.id.toLowerCase());
      if (!p) throw secretNotFound(input.id);
      apply(p, input, ctx);
      events.push(secretEvent("secret.update", caller, env, p.secret.row, now, { type: p.secret.row.type, changed: [...p.changed] }));
    }

    const all = [...byId.values()];
    assertDistinctKeys(all.map((p) => p.secret.row));
    const moved = all.filter((p) => p.secret.row.path !== p.original.path || p.secret.row.keyDigest !== p.original.keyDigest);
    if (await tx.anyLiveKeyAt(env.id, moved.map((p) => p.secret.row), [...byId.keys()])) throw duplicateSecret();

    for (const p of all) if (p.rawTags) p.secret.row.tags = cleanTagNames(p.rawTags).sort();
    const retagged = all.filter((p) => p.rawTags);
    const folders = await tx.ensureFolders(env.id, moved.flatMap((p) => folderChain(p.secret.row.path)), now);
    const tagIds = await tx.ensureTags(retagged.flatMap((p) => p.secret.row.tags), now);

    for (const p of all) {
      const { row } = p.secret;
      if (p.changed.has("path")) row.folderId = folders.get(row.path) ?? null;
      await tx.updateSecret(row.id, changesOf(p, ctx));
    }
    await tx.replaceTags(
      retagged.map((p) => p.secret.row.id),
      retagged.flatMap(({ secret: { row } }) => row.tags.map((name) => ({ secretId: row.id, tagId: tagIds.get(name)! }))),
    );
    for (const p of all) {
      const o = p.secret.override;
      if (!p.changed.has("override") || !o || !userId) continue;
      const valueCipher = sealOverride(keys, o.id, o.value);
      await tx.upsertOverride({ id: o.id, secretId: p.secret.row.id, userId, valueCipher, isActive: o.isActive, createdAt: o.createdAt, updatedAt: o.updatedAt });
    }
    return inputs.map((i) => byId.get(i.id.toLowerCase())!.secret);
  });

  deps.audit.record(events);
  return toViews(env, pending, ctx.sources);
}

/** Applies one entry to the in-memory secret (the same secret may appear in several entries). */
function apply(p: Pending, input: UpdateSecretInput, ctx: WriteContext): void {
  const s = p.secret;
  const wasSealed = s.row.type === "sealed";
  if (input.type !== undefined && wasSealed && input.type !== "sealed") throw sealedCannotBeUnsealed();
  if (input.key !== undefined) {
    s.key = input.key.toUpperCase();
    s.row.keyDigest = keyDigest(input.key, ctx.keys.salt);
    p.changed.add("key");
  }
  if (input.value !== undefined && !wasSealed) {
    s.value = input.value;
    p.changed.add("value");
  }
  if (input.comment !== undefined) {
    s.comment = input.comment;
    p.changed.add("comment");
  }
  if (input.path !== undefined) {
    s.row.path = normalizePath(input.path);
    p.changed.add("path");
  }
  if (input.type !== undefined) {
    s.row.type = input.type;
    p.changed.add("type");
  }
  if (input.tags !== undefined) {
    p.rawTags = input.tags;
    p.changed.add("tags");
  }
  if (input.override !== undefined && ctx.userId) {
    const old = s.override;
    s.override = {
      id: old?.id ?? randomUUID(),
      value: input.override.value,
      isActive: input.override.isActive ?? old?.isActive ?? true,
      createdAt: old?.createdAt ?? ctx.now,
      updatedAt: ctx.now,
    };
    p.changed.add("override");
  }
  // Phase bumps the version on every update, whatever changed.
  s.row.version += 1;
  s.row.updatedAt = ctx.now;
}

function changesOf(p: Pending, ctx: WriteContext): SecretChanges {
  const { row } = p.secret;
  const id = row.id;
  return {
    folderId: row.folderId,
    path: row.path,
    keyDigest: row.keyDigest,
    keyCipher: p.changed.has("key") ? sealKey(ctx.keys, id, p.secret.key) : undefined,
    valueCipher: p.changed.has("value") ? sealValue(ctx.keys, id, p.secret.value) : undefined,
    commentCipher: p.changed.has("comment") ? sealComment(ctx.keys, id, p.secret.comment) : undefined,
    type: row.type,
    version: row.version,
    updatedAt: row.updatedAt,
  };
}
