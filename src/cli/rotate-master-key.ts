import { ConfigError, loadConfig } from "../config.js";
import { sodiumReady } from "../crypto/sodium.js";
import { openDatabase } from "../db/database.js";
import { parseMasterKey } from "../keys/master-key.js";
import { rotateMasterKey } from "../keys/rotation.js";
import { createLogger } from "../logger.js";

/** LEASEHOLD_NEW_MASTER_KEY, validated like LEASEHOLD_MASTER_KEY (and never echoed). */
function newKeyFromEnv(env: NodeJS.ProcessEnv): Uint8Array | undefined {
  const raw = env["LEASEHOLD_NEW_MASTER_KEY"];
  if (raw === undefined || raw.trim() === "") return undefined;
  const key = parseMasterKey(raw);
  if (!key) {
    throw new ConfigError(["LEASEHOLD_NEW_MASTER_KEY: must be the base64 encoding of exactly 32 bytes (openssl rand -base64 32)"]);
  }
  return key;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `leasehold rotate-master-key`: re-wraps every environment key (and server key) under a new master
 * key in one transaction; secret rows are untouched. The current key comes from LEASEHOLD_MASTER_KEY
 * (or the embedded key file), the new one from LEASEHOLD_NEW_MASTER_KEY or is generated and printed.
 * Stop every server first (the embedded database's lock enforces it there).
 */
export async function runRotateMasterKey(_args: string[]): Promise<number> {
  const config = loadConfig();
  const newKey = newKeyFromEnv(process.env);
  const log = createLogger(config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL);
  await sodiumReady();
  const db = await openDatabase(config, { poolSize: 2 });
  let revealed = false;
  try {
    await db.migrate();
    const result = await rotateMasterKey({
      config,
      prisma: db.prisma,
      log,
      now: new Date(),
      ...(newKey ? { newKey } : {}),
      revealGeneratedKey: (key) => {
        revealed = true;
        out("New master key, shown only this once. Store it safely now:");
        out(key);
      },
    });
    out(
      `Master key rotated: ${result.environments} environment key(s) and ${result.serverKeys} server key(s) ` +
        "re-wrapped in one transaction; secret rows unchanged.",
    );
    if (result.keyFile) out(`The new key is in ${result.keyFile}.`);
    else out("Set LEASEHOLD_MASTER_KEY to the new key and restart every Leasehold server: one still running with the old key can no longer read secrets.");
    return 0;
  } catch (e) {
    if (revealed) {
      process.stderr.write(
        "leasehold: the rotation did not complete; keep using the current master key. " +
          "Only if a server then refuses to start with it did the rotation commit after all: use the key printed above.\n",
      );
    }
    throw e;
  } finally {
    await db.close();
  }
}
