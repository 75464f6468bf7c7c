import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { MasterKey, MasterKeyMismatchError } from "../crypto/envelope.js";
import type { Prisma } from "../db/database.js";
import { fsyncDir, writeFileDurable } from "./durable-file.js";

export const MASTER_KEY_FILE = "master.key";
/** Written by `rotate-master-key` before its commit; see adoptPendingKeyFile for the crash windows. */
export const NEW_MASTER_KEY_FILE = "master.key.new";

/** Where the master key comes from: the variable, or (embedded quickstart only) a file in the data dir. */
export type MasterKeySource = { kind: "env"; key: Uint8Array } | { kind: "file"; path: string; pendingPath: string };

export class MasterKeyFileError extends Error {
  override name = "MasterKeyFileError";
}

/** base64 of exactly 32 bytes, as `openssl rand -base64 32` prints it. */
export function parseMasterKey(text: string): Uint8Array | undefined {
  const v = text.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(v)) return undefined;
  const bytes = Buffer.from(v, "base64");
  return bytes.length === 32 ? new Uint8Array(bytes) : undefined;
}

export const encodeMasterKey = (key: Uint8Array) => `${Buffer.from(key).toString("base64")}\n`;

export function masterKeySource(config: Pick<Config, "LEASEHOLD_MASTER_KEY" | "DATABASE_URL" | "LEASEHOLD_DATA_DIR">): MasterKeySource {
  if (config.LEASEHOLD_MASTER_KEY) return { kind: "env", key: config.LEASEHOLD_MASTER_KEY };
  if (config.DATABASE_URL) throw new Error("LEASEHOLD_MASTER_KEY is required with DATABASE_URL");
  const dir = resolve(config.LEASEHOLD_DATA_DIR);
  return { kind: "file", path: join(dir, MASTER_KEY_FILE), pendingPath: join(dir, NEW_MASTER_KEY_FILE) };
}

/** How errors name the key: the variable, or the file it was read from. */
export const describeSource = (s: MasterKeySource) => (s.kind === "env" ? "LEASEHOLD_MASTER_KEY" : `The master key in ${s.path}`);

function readKeyFile(path: string): Uint8Array {
  const key = parseMasterKey(readFileSync(path, "utf8"));
  if (!key) throw new MasterKeyFileError(`${path} does not hold a base64-encoded 32-byte key`);
  return key;
}

/**
 * Finishes or discards a key rotation that stopped half-way. `rotate-master-key` in key-file mode:
 *   1. writes the new key to master.key.new (fsynced);
 *   2. commits the re-wrapped environment keys and the new canary in one transaction;
 *   3. renames master.key.new over master.key (and fsyncs the directory).
 * Crash before 2 commits: the database is still under the old key, so master.key.new does not open
 * the canary and is deleted. Crash between 2 and 3: the database is under the new key, master.key.new
 * opens the canary and is adopted here. After 3 there is nothing pending. A master.key.new that is
 * unreadable (crash during 1) is deleted, since 2 never starts before 1 is durable.
 * The data-dir lock guarantees no server runs while the rotation does.
 */
async function adoptPendingKeyFile(source: Extract<MasterKeySource, { kind: "file" }>, prisma: Prisma, log: Logger): Promise<void> {
  if (!existsSync(source.pendingPath)) return;
  const pending = parseMasterKey(readFileSync(source.pendingPath, "utf8"));
  const row = await prisma.masterKeyCheck.findUnique({ where: { id: 1 } });
  if (pending && row && new MasterKey(pending).opensCanary(row.canary)) {
    renameSync(source.pendingPath, source.path);
    fsyncDir(resolve(source.path, ".."));
    log.warn({ file: source.path }, "completed an interrupted master key rotation: adopted master.key.new");
    return;
  }
  rmSync(source.pendingPath, { force: true });
  log.warn({ file: source.pendingPath }, "discarded master.key.new from a rotation that never committed; the old key stays in use");
}

/**
 * Reads the key file, or creates it on the first start of an embedded quickstart. A missing file
 * next to a database that already holds sealed data is an error, not a first start: a new key
 * could never open that data, and writing one would only bury the problem.
 */
async function loadOrCreateKeyFile(path: string, prisma: Prisma, log: Logger): Promise<Uint8Array> {
  if (existsSync(path)) return readKeyFile(path);
  const sealed = (await prisma.masterKeyCheck.count()) + (await prisma.environment.count());
  if (sealed > 0) {
    throw new MasterKeyFileError(
      `${path} is missing, but the database next to it holds data sealed under a master key. ` +
        "Restore the file from your backup (or set LEASEHOLD_MASTER_KEY to that key).",
    );
  }
  const key = MasterKey.generate();
  writeFileDurable(path, encodeMasterKey(key), "wx");
  fsyncDir(resolve(path, ".."));
  log.warn(
    { file: path },
    "No LEASEHOLD_MASTER_KEY set: generated a master key in the data directory for the embedded quickstart. " +
      "Anyone who can read that file can decrypt every secret; set LEASEHOLD_MASTER_KEY for real deployments.",
  );
  return key;
}

/**
 * The master key this database is sealed with, checked against the canary before anything else
 * runs: a wrong key stops the start with MasterKeyMismatchError instead of failing request by request.
 */
export async function openMasterKey(config: Config, prisma: Prisma, log: Logger): Promise<MasterKey> {
  const source = masterKeySource(config);
  let key: Uint8Array;
  if (source.kind === "env") {
    key = source.key;
  } else {
    await adoptPendingKeyFile(source, prisma, log);
    key = await loadOrCreateKeyFile(source.path, prisma, log);
  }
  const masterKey = new MasterKey(key);
  await verifyMasterKey(prisma, masterKey, describeSource(source));
  return masterKey;
}

/**
 * Proves the key matches the database: the first start stores a canary sealed under it; every
 * later start must open it, or stops with MasterKeyMismatchError before serving anything.
 */
export async function verifyMasterKey(prisma: Prisma, masterKey: MasterKey, source?: string): Promise<void> {
  const row = await prisma.masterKeyCheck.findUnique({ where: { id: 1 } });
  if (row) {
    masterKey.verifyCanary(row.canary, source);
    return;
  }
  // Environments but no canary (a database from before the canary existed): check one wrapped key.
  const env = await prisma.environment.findFirst({ select: { id: true, wrappedKey: true } });
  if (env) {
    try {
      masterKey.unwrap(env.id, env.wrappedKey);
    } catch {
      throw new MasterKeyMismatchError(source);
    }
  }
  // Two instances may start at once: insert if absent, then verify whatever won.
  await prisma.masterKeyCheck.createMany({ data: [{ id: 1, canary: masterKey.makeCanary() }], skipDuplicates: true });
  masterKey.verifyCanary((await prisma.masterKeyCheck.findUniqueOrThrow({ where: { id: 1 } })).canary, source);
}
