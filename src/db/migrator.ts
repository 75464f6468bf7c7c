import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MIGRATIONS_DIR } from "../paths.js";
import type { SqlSession } from "./sql.js";

/**
 * Applies prisma/migrations/<name>/migration.sql and records each one in `_prisma_migrations`
 * exactly as Prisma's schema engine does (same DDL, advisory lock, SHA-256 checksum, row shape),
 * so `prisma migrate deploy` and `migrate status` treat our migrations as applied.
 * Unlike Prisma, each migration runs in one transaction with its bookkeeping row: a failure
 * leaves neither a half-applied schema nor a failed row behind.
 */
const PRISMA_ADVISORY_LOCK = 72707369;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  script: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
  checksumMismatches: string[];
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

export function checksum(script: string): string {
  return createHash("sha256").update(script, "utf8").digest("hex");
}

/** Prisma accepts a stored checksum for the file as-is or with its line endings flipped. */
function checksumMatches(stored: string, script: string): boolean {
  const variants = [script, script.replaceAll("\r\n", "\n"), script.replaceAll(/(?<!\r)\n/g, "\r\n")];
  return variants.some((v) => {
    const hex = createHash("sha256").update(v, "utf8").digest();
    const padded = hex.toString("hex");
    const unpadded = [...hex].map((b) => b.toString(16)).join(""); // prisma-engines#1887
    return stored === (stored.length === 64 ? padded : unpadded);
  });
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
  return Promise.all(
    names.map(async (name) => {
      const script = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, script, checksum: checksum(script) };
    }),
  );
}

interface Row extends Record<string, unknown> {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export async function migrate(session: SqlSession, migrations: Migration[]): Promise<MigrationResult> {
  await session.query(`SELECT pg_advisory_lock(${PRISMA_ADVISORY_LOCK})`);
  try {
    await session.exec(CREATE_TABLE);
    const rows = await session.query<Row>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
    );
    const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed.length > 0) {
      throw new MigrationError(
        `Migration ${failed.map((r) => r.migration_name).join(", ")} failed earlier and is marked unfinished ` +
          `in _prisma_migrations. Fix the database by hand, then mark it rolled back or applied ` +
          `(prisma migrate resolve) before starting again.`,
      );
    }
    const live = new Map(rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const result: MigrationResult = { applied: [], alreadyApplied: [], checksumMismatches: [] };
    for (const m of migrations) {
      const row = live.get(m.name);
      if (row) {
        result.alreadyApplied.push(m.name);
        if (!checksumMatches(row.checksum, m.script)) result.checksumMismatches.push(m.name);
        continue;
      }
      await applyOne(session, m);
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await session.query(`SELECT pg_advisory_unlock(${PRISMA_ADVISORY_LOCK})`);
  }
}

async function applyOne(session: SqlSession, m: Migration): Promise<void> {
  await session.exec("BEGIN");
  try {
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, clock_timestamp())`,
      [randomUUID(), m.checksum, m.name],
    );
    await session.exec(m.script);
    await session.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1 WHERE migration_name = $1 AND finished_at IS NULL`,
      [m.name],
    );
    await session.exec("COMMIT");
  } catch (e) {
    await session.exec("ROLLBACK").catch(() => undefined);
    throw new MigrationError(`Migration ${m.name} failed and was rolled back: ${(e as Error).message}`);
  }
}
