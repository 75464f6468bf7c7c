import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { MasterKey } from "../crypto/envelope.js";
import type { Prisma } from "../db/database.js";

export const MASTER_KEY_FILE = "master.key";

/**
 * The master key comes from LEASEHOLD_MASTER_KEY. Only the embedded quickstart (no DATABASE_URL)
 * may fall back to a key file in the data directory, generated on first start with a warning.
 */
export function loadMasterKeyBytes(config: Config, log: Logger): Uint8Array {
  if (config.LEASEHOLD_MASTER_KEY) return config.LEASEHOLD_MASTER_KEY;
  if (config.DATABASE_URL) throw new Error("LEASEHOLD_MASTER_KEY is required with DATABASE_URL");
  const file = join(resolve(config.LEASEHOLD_DATA_DIR), MASTER_KEY_FILE);
  if (existsSync(file)) {
    const bytes = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (bytes.length !== 32) throw new Error(`${file} does not hold a base64 32-byte key`);
    return new Uint8Array(bytes);
  }
  const key = MasterKey.generate();
  writeFileSync(file, `${Buffer.from(key).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  log.warn(
    { file },
    "No LEASEHOLD_MASTER_KEY set: generated a master key in the data directory for the embedded quickstart. " +
      "Anyone who can read that file can decrypt every secret; set LEASEHOLD_MASTER_KEY for real deployments.",
  );
  return key;
}

/**
 * Proves the key matches the database: the first start stores a canary sealed under it; every
 * later start must open it, or stops with MasterKeyMismatchError before serving anything.
 */
export async function verifyMasterKey(prisma: Prisma, masterKey: MasterKey): Promise<void> {
  const row = await prisma.masterKeyCheck.findUnique({ where: { id: 1 } });
  if (row) {
    masterKey.verifyCanary(row.canary);
    return;
  }
  const environments = await prisma.environment.count();
  if (environments > 0) {
    // Environments exist but no canary: check one wrapped key instead of trusting the new key.
    const env = await prisma.environment.findFirstOrThrow({ select: { id: true, wrappedKey: true } });
    try {
      masterKey.unwrap(env.id, env.wrappedKey);
    } catch {
      masterKey.verifyCanary(new Uint8Array(0));
    }
  }
  // Two instances may start at once: insert if absent, then verify whatever won.
  await prisma.masterKeyCheck.createMany({ data: [{ id: 1, canary: masterKey.makeCanary() }], skipDuplicates: true });
  masterKey.verifyCanary((await prisma.masterKeyCheck.findUniqueOrThrow({ where: { id: 1 } })).canary);
}
