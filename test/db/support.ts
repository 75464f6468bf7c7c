import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "../../src/db/database.js";
import type { SqlSession } from "../../src/db/sql.js";

/** The production pg path (pool + session) on a test database's URL. */
export function openPg(url: string): Promise<Database> {
  return openDatabase({ DATABASE_URL: url, LEASEHOLD_DATA_DIR: "unused" }, { poolSize: 3 });
}

/** Runs fn on a dedicated session and releases it. */
export async function withSession<T>(db: Database, fn: (s: SqlSession) => Promise<T>): Promise<T> {
  const s = await db.session();
  try {
    return await fn(s);
  } finally {
    await s.release();
  }
}

/** A throwaway migrations directory: { "0001_a": "CREATE TABLE ..." }. */
export function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "lh-migrations-"));
  for (const [name, sql] of Object.entries(files)) writeMigration(dir, name, sql);
  return dir;
}

export function writeMigration(dir: string, name: string, sql: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, "migration.sql"), sql);
}

/** `sha256sum <file>`: the checksum computed by a tool that is not ours. */
export function sha256sum(file: string): string {
  return execFileSync("sha256sum", [file], { encoding: "utf8" }).split(/\s+/)[0]!;
}
