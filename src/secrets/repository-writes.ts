import { randomUUID } from "node:crypto";
import type { Bytes } from "../crypto/aead.js";
import type { Prisma } from "../db/database.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import { Prisma as P } from "../generated/prisma/client.js";
import { duplicateSecret } from "./errors.js";
import type { SecretType } from "./types.js";

export type Db = Prisma | P.TransactionClient;

export interface NewSecretRow {
  id: string;
  environmentId: string;
  folderId: string | null;
  path: string;
  keyDigest: string;
  keyCipher: Bytes;
  valueCipher: Bytes;
  commentCipher: Bytes;
  type: SecretType;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface SecretChanges {
  folderId: string | null;
  path: string;
  keyDigest: string;
  keyCipher?: Bytes | undefined;
  valueCipher?: Bytes | undefined;
  commentCipher?: Bytes | undefined;
  type: SecretType;
  version: number;
  updatedAt: Date;
}

export interface OverrideRow {
  id: string;
  secretId: string;
  userId: string;
  valueCipher: Bytes;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface TagLink {
  secretId: string;
  tagId: string;
}

/** The secrets_live_key_unique index (or any other unique key on secrets) becomes Phase's 409. */
async function mapDuplicate<T>(op: Promise<T>): Promise<T> {
  try {
    return await op;
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicateSecret();
    throw e;
  }
}

/** Writes: only reachable through the repository's transaction. */
export function secretWrites(db: Db) {
  /** secrets.tag_names of `secretIds` from their secret_tags rows, in the same transaction. */
  const syncTagNames = async (secretIds: string[]): Promise<void> => {
    if (secretIds.length === 0) return;
    await db.$executeRaw`
      UPDATE secrets s
         SET tag_names = coalesce((SELECT array_agg(t.name ORDER BY t.name COLLATE "C")
                                     FROM secret_tags st JOIN tags t ON t.id = st.tag_id
                                    WHERE st.secret_id = s.id), '{}')
       WHERE s.id = ANY(${secretIds}::uuid[])`;
  };
  const linkTags = async (links: TagLink[]): Promise<void> => {
    if (links.length === 0) return;
    await db.secretTag.createMany({ data: links, skipDuplicates: true });
    await syncTagNames([...new Set(links.map((l) => l.secretId))]);
  };
  return {
    /** Is a live secret (other than `excludeIds`) or a dynamic secret's key already at one of these (path, digest)? */
    async anyLiveKeyAt(environmentId: string, keys: { path: string; keyDigest: string }[], excludeIds: string[]): Promise<boolean> {
      if (keys.length === 0) return false;
      const pairs = P.join(keys.map((k) => P.sql`(${k.path}, ${k.keyDigest})`));
      const exclude = excludeIds.length > 0 ? P.sql`AND id NOT IN (${P.join(excludeIds.map((id) => P.sql`${id}::uuid`))})` : P.empty;
      const rows = await db.$queryRaw<{ found: number }[]>`
        SELECT 1 AS found FROM secrets
         WHERE environment_id = ${environmentId}::uuid AND deleted_at IS NULL AND (path, key_digest) IN (${pairs}) ${exclude}
        UNION ALL
        SELECT 1 FROM dynamic_secrets d CROSS JOIN LATERAL unnest(d.key_digests) AS k(digest)
         WHERE d.environment_id = ${environmentId}::uuid AND d.deleted_at IS NULL AND (d.path, k.digest) IN (${pairs})
        LIMIT 1`;
      return rows.length > 0;
    },

    /** Creates the missing folders among `paths` (all already normalised) and returns every id by path. */
    async ensureFolders(environmentId: string, paths: string[], at: Date): Promise<Map<string, string>> {
      const unique = [...new Set(paths)];
      if (unique.length === 0) return new Map();
      await db.folder.createMany({
        data: unique.map((path) => ({ id: randomUUID(), environmentId, path, createdAt: at })),
        skipDuplicates: true,
      });
      const rows = await db.folder.findMany({ where: { environmentId, path: { in: unique } }, select: { id: true, path: true } });
      return new Map(rows.map((r) => [r.path, r.id]));
    },

    /** Creates unknown tags (organisation-wide) and returns every id by name. */
    async ensureTags(names: string[], at: Date): Promise<Map<string, string>> {
      const unique = [...new Set(names)];
      if (unique.length === 0) return new Map();
      await db.tag.createMany({ data: unique.map((name) => ({ id: randomUUID(), name, createdAt: at })), skipDuplicates: true });
      const rows = await db.tag.findMany({ where: { name: { in: unique } }, select: { id: true, name: true } });
      return new Map(rows.map((r) => [r.name, r.id]));
    },

    async insertSecrets(rows: NewSecretRow[]): Promise<void> {
      await mapDuplicate(db.secret.createMany({ data: rows }));
    },

    async updateSecret(id: string, changes: SecretChanges): Promise<void> {
      await mapDuplicate(db.secret.update({ where: { id }, data: changes }));
    },

    linkTags,

    /** Replaces the whole tag set of each of `secretIds` with `links`. */
    async replaceTags(secretIds: string[], links: TagLink[]): Promise<void> {
      if (secretIds.length === 0) return;
      await db.secretTag.deleteMany({ where: { secretId: { in: secretIds } } });
      if (links.length > 0) await db.secretTag.createMany({ data: links, skipDuplicates: true });
      await syncTagNames(secretIds);
    },

    async insertOverrides(rows: OverrideRow[]): Promise<void> {
      if (rows.length > 0) await db.personalSecret.createMany({ data: rows });
    },

    /** Creates or updates the user's override; the caller passes the existing row id (the AD binds to it). */
    async upsertOverride(row: OverrideRow): Promise<void> {
      await db.personalSecret.upsert({
        where: { secretId_userId: { secretId: row.secretId, userId: row.userId } },
        create: row,
        update: { valueCipher: row.valueCipher, isActive: row.isActive, updatedAt: row.updatedAt },
      });
    },

    async softDelete(ids: string[], at: Date): Promise<void> {
      if (ids.length > 0) await db.secret.updateMany({ where: { id: { in: ids }, deletedAt: null }, data: { deletedAt: at, updatedAt: at } });
    },
  };
}
