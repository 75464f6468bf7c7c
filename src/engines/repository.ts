import type { Bytes } from "../crypto/aead.js";
import type { Prisma } from "../db/database.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import type { DynamicEngine, DynamicRole } from "../generated/prisma/client.js";
import type { EngineKind } from "./plugins.js";

export interface EngineRecord extends Omit<DynamicEngine, "config" | "type"> {
  type: EngineKind;
  config: Record<string, unknown>;
}

export interface RoleRecord extends Omit<DynamicRole, "config"> {
  config: Record<string, unknown>;
}

export type NewEngine = Omit<EngineRecord, "createdAt" | "updatedAt" | "rootPendingCipher" | "rotationStartedAt" | "rootRotatedAt">;
export type EngineChanges = Partial<
  Pick<EngineRecord, "config" | "rootCipher" | "rootPendingCipher" | "rotationStartedAt" | "rootRotatedAt" | "rootCredentialsPath" | "defaultTtl" | "maxTtl">
>;
export type NewRole = Omit<RoleRecord, "createdAt" | "updatedAt">;

const asEngine = (r: DynamicEngine): EngineRecord => r as EngineRecord;
const asRole = (r: DynamicRole): RoleRecord => r as RoleRecord;

/** Runs `fn`; a unique violation becomes `onConflict()`'s error. */
async function unique<T>(fn: () => Promise<T>, onConflict: () => Error): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) throw onConflict();
    throw e;
  }
}

/** Engines and roles (tables dynamic_engines, dynamic_roles). Root credentials stay sealed here. */
export function createEngineRepository(prisma: Prisma) {
  const json = (v: Record<string, unknown>) => v as object;
  return {
    createEngine: (e: NewEngine, now: Date, onConflict: () => Error) =>
      unique(async () => asEngine(await prisma.dynamicEngine.create({ data: { ...e, config: json(e.config), createdAt: now, updatedAt: now } })), onConflict),

    findEngine: async (name: string) => {
      if (name.includes("\u0000")) return null; // no name holds one (NAME_RE), and PostgreSQL text refuses it
      const r = await prisma.dynamicEngine.findUnique({ where: { name } });
      return r ? asEngine(r) : null;
    },

    findEngineById: async (id: string) => {
      const r = await prisma.dynamicEngine.findUnique({ where: { id } });
      return r ? asEngine(r) : null;
    },

    listEngines: async () => (await prisma.dynamicEngine.findMany({ orderBy: { name: "asc" } })).map(asEngine),

    /** Null when the engine is gone. */
    updateEngine: async (id: string, c: EngineChanges, now: Date) => {
      const { config, ...rest } = c;
      const { count } = await prisma.dynamicEngine.updateMany({ where: { id }, data: { ...rest, ...(config ? { config: json(config) } : {}), updatedAt: now } });
      return count === 1 ? (await prisma.dynamicEngine.findUnique({ where: { id } }).then((r) => (r ? asEngine(r) : null))) : null;
    },

    /** Deletes the engine (and its roles) only when none of its leases is live any more. */
    async deleteEngineWithoutLiveLeases(id: string): Promise<boolean> {
      const n = await prisma.$executeRaw`
        DELETE FROM dynamic_engines WHERE id = ${id}::uuid
           AND NOT EXISTS (SELECT 1 FROM leases WHERE engine_id = ${id}::uuid
                            AND status NOT IN ('REVOKED', 'EXPIRED', 'CREATE_FAILED'))`;
      return n === 1;
    },

    /** Step 1 of rotate-root: the new root secret, kept before anything changes upstream. */
    async setPending(id: string, pending: Bytes, now: Date): Promise<boolean> {
      const { count } = await prisma.dynamicEngine.updateMany({
        where: { id, rootPendingCipher: null },
        data: { rootPendingCipher: pending, rotationStartedAt: now, updatedAt: now },
      });
      return count === 1;
    },

    /** The pending secret became the root (re-sealed for its field), if it is still the one we saw. */
    async promotePending(id: string, expectedPending: Uint8Array, root: Bytes, now: Date): Promise<boolean> {
      const n = await prisma.$executeRaw`
        UPDATE dynamic_engines SET root_cipher = ${root}, root_pending_cipher = NULL, rotation_started_at = NULL,
               root_rotated_at = ${now}, updated_at = ${now}
         WHERE id = ${id}::uuid AND root_pending_cipher = ${expectedPending}`;
      return n === 1;
    },

    /** A rotation that never changed anything upstream: forget its pending secret. */
    async dropPending(id: string, expectedPending: Uint8Array, now: Date): Promise<boolean> {
      const n = await prisma.$executeRaw`
        UPDATE dynamic_engines SET root_pending_cipher = NULL, rotation_started_at = NULL, updated_at = ${now}
         WHERE id = ${id}::uuid AND root_pending_cipher = ${expectedPending}`;
      return n === 1;
    },

    createRole: (r: NewRole, now: Date, onConflict: () => Error) =>
      unique(async () => asRole(await prisma.dynamicRole.create({ data: { ...r, config: json(r.config), createdAt: now, updatedAt: now } })), onConflict),

    findRole: async (engineId: string, name: string) => {
      if (name.includes("\u0000")) return null;
      const r = await prisma.dynamicRole.findUnique({ where: { engineId_name: { engineId, name } } });
      return r ? asRole(r) : null;
    },

    listRoles: async (engineId: string) => (await prisma.dynamicRole.findMany({ where: { engineId }, orderBy: { name: "asc" } })).map(asRole),

    async deleteRole(engineId: string, name: string): Promise<boolean> {
      if (name.includes("\u0000")) return false;
      const { count } = await prisma.dynamicRole.deleteMany({ where: { engineId, name } });
      return count === 1;
    },
  };
}

export type EngineRepository = ReturnType<typeof createEngineRepository>;
