import { randomUUID } from "node:crypto";
import type { Bytes } from "../crypto/aead.js";
import type { Database, Prisma } from "../db/database.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import { ConflictError } from "../errors.js";
import { Prisma as P } from "../generated/prisma/client.js";

export interface DefinitionRecord {
  id: string;
  environmentId: string;
  folderId: string | null;
  path: string;
  name: string;
  description: string;
  provider: string;
  configCipher: Uint8Array;
  keyMapCipher: Uint8Array;
  keyDigests: string[];
  defaultTtl: number;
  maxTtl: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  environment: { wrappedKey: Uint8Array; appId: string };
}

export interface NewDefinition {
  id: string;
  environmentId: string;
  path: string;
  name: string;
  description: string;
  provider: string;
  configCipher: Bytes;
  keyMapCipher: Bytes;
  keyDigests: string[];
  defaultTtl: number;
  maxTtl: number;
}

export type DefinitionChanges = Partial<Pick<NewDefinition, "name" | "description" | "configCipher" | "keyMapCipher" | "keyDigests" | "defaultTtl" | "maxTtl">>;

export interface DefinitionFilter {
  path?: string | undefined;
  id?: string | undefined;
  name?: string | undefined;
}

const include = { environment: { select: { wrappedKey: true, appId: true } } } as const;
type Tx = Parameters<Parameters<Prisma["$transaction"]>[0]>[0];

/** Serialises definition writes at one (environment, path), where key names must stay unique. */
async function lockPath(tx: Tx, environmentId: string, path: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`dynamic:${environmentId}:${path}`}))`;
}

/** Is one of `digests` a live static secret or another live dynamic secret's key at (environment, path)? */
async function keyTaken(db: Prisma | Tx, environmentId: string, path: string, digests: string[], excludeId?: string): Promise<boolean> {
  if (digests.length === 0) return false;
  const exclude = excludeId ? P.sql`AND d.id <> ${excludeId}::uuid` : P.empty;
  const rows = await db.$queryRaw<{ found: number }[]>`
    SELECT 1 AS found FROM secrets
     WHERE environment_id = ${environmentId}::uuid AND path = ${path} AND deleted_at IS NULL AND key_digest IN (${P.join(digests)})
    UNION ALL
    SELECT 1 FROM dynamic_secrets d
     WHERE d.environment_id = ${environmentId}::uuid AND d.path = ${path} AND d.deleted_at IS NULL
       AND d.key_digests && ${digests}::text[] ${exclude}
    LIMIT 1`;
  return rows.length > 0;
}

/** The partial unique index: one live definition per (environment, path, name). */
async function uniqueName<T>(name: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError(`A dynamic secret named '${name ?? ""}' already exists at this path.`);
    throw e;
  }
}

/** Dynamic secret definitions (soft-deleted rows stay for the leases that point at them). */
const DEFINITION_COLUMNS = `
  SELECT d.id, d.environment_id AS "environmentId", d.folder_id AS "folderId", d.path, d.name, d.description, d.provider,
         d.config_cipher AS "configCipher", d.key_map_cipher AS "keyMapCipher", d.key_digests AS "keyDigests",
         d.default_ttl AS "defaultTtl", d.max_ttl AS "maxTtl", d.created_at AS "createdAt", d.updated_at AS "updatedAt",
         d.deleted_at AS "deletedAt", e.wrapped_key AS "wrappedKey", e.app_id AS "appId"
    FROM dynamic_secrets d JOIN environments e ON e.id = d.environment_id`;

const FIND_LIVE_SQL = `${DEFINITION_COLUMNS} WHERE d.id = $1::uuid AND d.deleted_at IS NULL`;
/** Deleted ones too (soft-deleted rows keep their config): revoking a deleted definition's leases. */
const FIND_ANY_SQL = `${DEFINITION_COLUMNS} WHERE d.id = $1::uuid`;

/** Phase's filters; an absent one (NULL) matches everything. */
const LIST_LIVE_SQL = `${DEFINITION_COLUMNS}
   WHERE d.environment_id = $1::uuid AND d.deleted_at IS NULL
     AND ($2::text IS NULL OR d.path = $2) AND ($3::uuid IS NULL OR d.id = $3) AND ($4::text IS NULL OR d.name = $4)
   ORDER BY d.path, d.name`;

type DefinitionRow = Omit<DefinitionRecord, "environment"> & { wrappedKey: Uint8Array; appId: string } & Record<string, unknown>;

function toRecord({ wrappedKey, appId, ...def }: DefinitionRow): DefinitionRecord {
  return { ...def, environment: { wrappedKey, appId } };
}

export function createDefinitionRepository(database: Database) {
  const prisma = database.prisma;
  return {
    /** On the lease-creation hot path: one prepared statement, without Prisma. */
    async findLive(id: string): Promise<DefinitionRecord | null> {
      const rows = await database.query<DefinitionRow>(FIND_LIVE_SQL, [id], { name: "lh_dynamic_find_live" });
      return rows[0] ? toRecord(rows[0]) : null;
    },

    /** A definition, live or soft-deleted: the root credentials its leases are revoked with. */
    async findEvenDeleted(id: string): Promise<DefinitionRecord | null> {
      const rows = await database.query<DefinitionRow>(FIND_ANY_SQL, [id], { name: "lh_dynamic_find_any" });
      return rows[0] ? toRecord(rows[0]) : null;
    },

    /** Live definitions with their environment's key in one round trip (Phase's GET …/dynamic/, also with lease=true). */
    async list(environmentId: string, f: DefinitionFilter): Promise<DefinitionRecord[]> {
      const rows = await database.query<DefinitionRow>(LIST_LIVE_SQL, [environmentId, f.path ?? null, f.id || null, f.name ?? null], { name: "lh_dynamic_list_live" });
      return rows.map(toRecord);
    },

    /** The environment of a live dynamic secret (Phase's secret_id context). */
    async findEnvironmentId(id: string): Promise<string | null> {
      const row = await prisma.dynamicSecret.findFirst({ where: { id, deletedAt: null }, select: { environmentId: true } });
      return row?.environmentId ?? null;
    },

    /** Is one of `digests` a live dynamic secret's key at (environment, path)? (static secrets not checked) */
    async isKeyDigestTaken(environmentId: string, path: string, digests: string[]): Promise<boolean> {
      if (digests.length === 0) return false;
      const rows = await prisma.$queryRaw<{ found: number }[]>`
        SELECT 1 AS found FROM dynamic_secrets
         WHERE environment_id = ${environmentId}::uuid AND path = ${path} AND deleted_at IS NULL
           AND key_digests && ${digests}::text[]
         LIMIT 1`;
      return rows.length > 0;
    },

    /** Inserts unless a key name collides at the path (then returns null); creates the folder chain. */
    create(d: NewDefinition, folderPaths: string[], now: Date): Promise<DefinitionRecord | null> {
      return uniqueName(d.name, () => prisma.$transaction(async (tx) => {
        await lockPath(tx, d.environmentId, d.path);
        if (await keyTaken(tx, d.environmentId, d.path, d.keyDigests)) return null;
        if (folderPaths.length > 0) {
          await tx.folder.createMany({
            data: folderPaths.map((path) => ({ id: randomUUID(), environmentId: d.environmentId, path, createdAt: now })),
            skipDuplicates: true,
          });
        }
        const folder = await tx.folder.findUnique({ where: { environmentId_path: { environmentId: d.environmentId, path: d.path } } });
        return tx.dynamicSecret.create({ data: { ...d, folderId: folder?.id ?? null, createdAt: now }, include });
      }));
    },

    /** Updates a live row; null when a new key name collides, "gone" when the row was deleted meanwhile. */
    update(id: string, at: { environmentId: string; path: string }, changes: DefinitionChanges): Promise<DefinitionRecord | null | "gone"> {
      return uniqueName(changes.name, () => prisma.$transaction(async (tx) => {
        await lockPath(tx, at.environmentId, at.path);
        if (changes.keyDigests && (await keyTaken(tx, at.environmentId, at.path, changes.keyDigests, id))) return null;
        const { count } = await tx.dynamicSecret.updateMany({ where: { id, deletedAt: null }, data: changes });
        if (count === 0) return "gone";
        return tx.dynamicSecret.findUniqueOrThrow({ where: { id }, include });
      }));
    },

    async softDelete(id: string, now: Date): Promise<boolean> {
      const { count } = await prisma.dynamicSecret.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: now } });
      return count === 1;
    },
  };
}

export type DefinitionRepository = ReturnType<typeof createDefinitionRepository>;
