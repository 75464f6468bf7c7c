import { randomBytes } from "node:crypto";
import type { MasterKey } from "../crypto/envelope.js";
import type { Prisma } from "../db/database.js";

/** Server-wide data keys by purpose. "leases" seals every lease's state (config snapshot, secrets); "engines" the root credentials of /v1/dynamic/ engines. */
export type ServerKeyPurpose = "leases" | "engines";

/**
 * Server-wide data keys (table server_keys, one row per purpose), wrapped by the master key with
 * their own associated data (MasterKey.wrapServerKey), so `rotate-master-key` re-wraps them with
 * the environment keys. A key is created on first use; two processes racing to create it both
 * insert with ON CONFLICT DO NOTHING and then read back the one row that won.
 */
export function createServerKeys(deps: { prisma: Prisma; masterKey: MasterKey }) {
  const cache = new Map<ServerKeyPurpose, Promise<Uint8Array>>();

  async function load(purpose: ServerKeyPurpose): Promise<Uint8Array> {
    const existing = await deps.prisma.serverKey.findUnique({ where: { purpose } });
    if (existing) return deps.masterKey.unwrapServerKey(purpose, existing.wrappedKey);
    const wrapped = deps.masterKey.wrapServerKey(purpose, new Uint8Array(randomBytes(32)));
    await deps.prisma.$executeRaw`
      INSERT INTO "server_keys" ("purpose", "wrapped_key") VALUES (${purpose}, ${wrapped})
      ON CONFLICT ("purpose") DO NOTHING`;
    const row = await deps.prisma.serverKey.findUniqueOrThrow({ where: { purpose } });
    return deps.masterKey.unwrapServerKey(purpose, row.wrappedKey);
  }

  return {
    /** The unwrapped key for `purpose`, cached for the life of the process (a failure is retried). */
    get(purpose: ServerKeyPurpose): Promise<Uint8Array> {
      let hit = cache.get(purpose);
      if (!hit) {
        hit = load(purpose);
        hit.catch(() => cache.delete(purpose));
        cache.set(purpose, hit);
      }
      return hit;
    },
  };
}

export type ServerKeys = ReturnType<typeof createServerKeys>;
