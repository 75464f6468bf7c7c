import { loadConfig } from "../config.js";
import { openDatabase } from "../db/database.js";

/**
 * `leasehold migrate`: apply pending migrations, print what happened, exit. Schema changes never
 * read encrypted data, so it needs no master key (a deploy job can migrate without holding it).
 */
export async function runMigrate(_args: string[]): Promise<number> {
  const config = loadConfig(process.env, { requireMasterKey: false });
  const db = await openDatabase(config);
  try {
    const r = await db.migrate();
    for (const name of r.applied) process.stdout.write(`applied ${name}\n`);
    for (const name of r.checksumMismatches) process.stderr.write(`warning: ${name} was applied from a different file\n`);
    process.stdout.write(r.applied.length ? `${r.applied.length} migration(s) applied\n` : "database is up to date\n");
    return 0;
  } finally {
    await db.close();
  }
}
