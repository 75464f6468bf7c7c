import { renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { DecryptionError } from "../crypto/aead.js";
import { MasterKey } from "../crypto/envelope.js";
import type { Prisma } from "../db/database.js";
import { fsyncDir, writeFileDurable } from "./durable-file.js";
import { describeSource, encodeMasterKey, masterKeySource, openMasterKey } from "./master-key.js";

export class RotationError extends Error {
  override name = "RotationError";
}

export interface RotationResult {
  environments: number;
  serverKeys: number;
  /** Embedded key-file mode: the file now holding the new key. */
  keyFile?: string;
}

export interface RotateOptions {
  config: Config;
  prisma: Prisma;
  log: Logger;
  now: Date;
  /** LEASEHOLD_NEW_MASTER_KEY; a fresh random key when absent. */
  newKey?: Uint8Array;
  /**
   * Receives a generated key (variable mode only) BEFORE the database depends on it: printing it
   * after the commit would lose it for good if the process died in between.
   */
  revealGeneratedKey?: (base64: string) => void;
}

/** Lets the rotation run a long way on a big database; the embedded database serialises anyway. */
const TX_OPTIONS = { maxWait: 60_000, timeout: 10 * 60_000 };

/**
 * Re-wraps every environment key, every server key and the canary under `next`, in one
 * transaction. Secret rows are sealed with the environment keys, so they are never read or written.
 * Everything is unwrapped with `current` first: one blob it cannot open aborts the whole rotation
 * and leaves the database as it was. Locks keep concurrent writers (a server that was not stopped)
 * from adding a blob under the old key mid-rotation; they wait, then see the new canary.
 */
export async function rewrapUnderNewKey(
  prisma: Prisma,
  current: MasterKey,
  next: MasterKey,
  now: Date,
  currentSource?: string,
): Promise<Omit<RotationResult, "keyFile">> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`LOCK TABLE "master_key_check", "environments", "server_keys" IN SHARE ROW EXCLUSIVE MODE`);
    const check = await tx.masterKeyCheck.findUnique({ where: { id: 1 } });
    if (!check) throw new RotationError("The database has no master key check row; start the server once before rotating.");
    current.verifyCanary(check.canary, currentSource);

    const environments = await tx.environment.findMany({ select: { id: true, wrappedKey: true }, orderBy: { id: "asc" } });
    for (const env of environments) {
      const keys = unwrapOrExplain(() => current.unwrap(env.id, env.wrappedKey), `environment ${env.id}`);
      // Raw UPDATE: a re-wrap is not an edit of the environment, so updated_at stays as it was.
      await tx.$executeRaw`UPDATE "environments" SET "wrapped_key" = ${next.wrap(env.id, keys)} WHERE "id" = ${env.id}::uuid`;
    }

    const serverKeys = await tx.serverKey.findMany({ select: { purpose: true, wrappedKey: true } });
    for (const sk of serverKeys) {
      const key = unwrapOrExplain(() => current.unwrapServerKey(sk.purpose, sk.wrappedKey), `server key '${sk.purpose}'`);
      await tx.$executeRaw`UPDATE "server_keys" SET "wrapped_key" = ${next.wrapServerKey(sk.purpose, key)} WHERE "purpose" = ${sk.purpose}`;
    }

    await tx.masterKeyCheck.update({ where: { id: 1 }, data: { canary: next.makeCanary(), rotatedAt: now } });
    return { environments: environments.length, serverKeys: serverKeys.length };
  }, TX_OPTIONS);
}

function unwrapOrExplain<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DecryptionError) {
      throw new RotationError(`The current master key cannot open ${what}; nothing was changed. The database may be damaged.`);
    }
    throw e;
  }
}

/**
 * `leasehold rotate-master-key`: verifies the current key (the canary), then re-wraps everything
 * under the new one. In embedded key-file mode it also replaces master.key, crash-safely:
 *   1. the new key goes to master.key.new (fsynced) before the transaction starts;
 *   2. the transaction commits;
 *   3. master.key.new is renamed over master.key and the directory fsynced.
 * A crash before 2 leaves the old key valid and master.key.new is discarded at the next start; a
 * crash between 2 and 3 is completed at the next start, which adopts master.key.new because it
 * opens the new canary (src/keys/master-key.ts, adoptPendingKeyFile). The data-dir lock held by
 * the caller keeps a server from starting in between.
 */
export async function rotateMasterKey(opts: RotateOptions): Promise<RotationResult> {
  const source = masterKeySource(opts.config);
  const current = await openMasterKey(opts.config, opts.prisma, opts.log); // also finishes an interrupted rotation
  const nextBytes = opts.newKey ?? MasterKey.generate();
  if (current.equals(nextBytes)) throw new RotationError("LEASEHOLD_NEW_MASTER_KEY is the current master key; nothing to rotate.");
  const next = new MasterKey(nextBytes);

  if (source.kind === "env") {
    if (!opts.newKey) opts.revealGeneratedKey?.(encodeMasterKey(nextBytes).trim());
    return rewrapUnderNewKey(opts.prisma, current, next, opts.now, describeSource(source));
  }

  writeFileDurable(source.pendingPath, encodeMasterKey(nextBytes), "w");
  fsyncDir(dirname(source.pendingPath));
  let result: Omit<RotationResult, "keyFile">;
  try {
    result = await rewrapUnderNewKey(opts.prisma, current, next, opts.now, describeSource(source));
  } catch (e) {
    // Whether it committed is decided by the canary, as at start-up: an error reported after a
    // commit must not throw away the only copy of the key the database is now sealed under.
    const row = await opts.prisma.masterKeyCheck.findUnique({ where: { id: 1 } }).catch(() => undefined);
    if (row && !next.opensCanary(row.canary)) rmSync(source.pendingPath, { force: true });
    // Otherwise master.key.new stays, and the next start adopts or discards it.
    throw e;
  }
  renameSync(source.pendingPath, source.path);
  fsyncDir(dirname(source.path));
  opts.log.info({ file: source.path }, `rotated ${describeSource(source)}`);
  return { ...result, keyFile: source.path };
}
