import { isUuid } from "../auth/environment-context.js";
import type { Database } from "../db/database.js";
import { secretWrites, type Db } from "./repository-writes.js";
import { fromColumnLists, rowQuery, type ColumnLists, type RowFilter, type SecretRow } from "./row-query.js";

export type { RowFilter, SecretRow } from "./row-query.js";

/** Reads usable inside or outside a transaction. */
function secretReads(db: Db) {
  return {
    /** The sealed value of a live secret, for reference resolution. */
    async findLiveValue(environmentId: string, path: string, keyDigest: string) {
      const rows = await db.$queryRaw<{ id: string; valueCipher: Uint8Array }[]>`
        SELECT id, value_cipher AS "valueCipher" FROM secrets
         WHERE environment_id = ${environmentId}::uuid AND path = ${path} AND key_digest = ${keyDigest}
           AND deleted_at IS NULL
         LIMIT 1`;
      return rows[0] ?? null;
    },
  };
}

/** Reads that lock: only inside a transaction. */
function lockingReads(db: Db) {
  return {
    /** Live secrets of the environment among `ids`, locked for update. Non-UUIDs never match. */
    lockLive(environmentId: string, ids: string[], userId: string | null): Promise<SecretRow[]> {
      const valid = [...new Set(ids.filter(isUuid))];
      if (valid.length === 0) return Promise.resolve([]);
      const q = rowQuery(environmentId, userId, { ids: valid }, "lock");
      return db.$queryRawUnsafe<SecretRow[]>(q.text, ...q.values);
    },
  };
}

export type SecretTx = ReturnType<typeof secretReads> & ReturnType<typeof lockingReads> & ReturnType<typeof secretWrites>;

/** Secrets, folders, tags and personal overrides. Writes only happen inside `transaction`. */
export function createSecretRepository(db: Pick<Database, "prisma" | "query">) {
  const { prisma } = db;
  return {
    ...secretReads(prisma),

    /** Live secrets of the environment matching every filter (tags: ANY of them), outside any transaction. */
    async listLive(environmentId: string, userId: string | null, filter: RowFilter): Promise<SecretRow[]> {
      if (filter.ids?.length === 0 || filter.tagNames?.length === 0) return [];
      const q = rowQuery(environmentId, userId, filter, "lists");
      const [lists] = await db.query<ColumnLists>(q.text, q.values, { name: `lh_secrets_${q.shape}` });
      return fromColumnLists(lists!);
    },

    async findEnvironmentIdOfSecret(id: string): Promise<string | null> {
      if (!isUuid(id)) return null;
      const row = await prisma.secret.findUnique({ where: { id }, select: { environmentId: true } });
      return row?.environmentId ?? null;
    },

    /** Runs `fn` in one interactive transaction; `fn` gets a repository bound to it, never the outer client. */
    transaction<T>(fn: (tx: SecretTx) => Promise<T>): Promise<T> {
      return prisma.$transaction((tx) => fn({ ...secretReads(tx), ...lockingReads(tx), ...secretWrites(tx) }));
    },
  };
}

export type SecretRepository = ReturnType<typeof createSecretRepository>;
