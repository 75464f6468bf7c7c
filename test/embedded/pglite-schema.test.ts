import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/database.js";
import { readMigrations } from "../../src/db/migrator.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { openPg } from "../db/support.js";
import { freshDataDir } from "./support.js";

/**
 * The same migration files build the same schema on the embedded database (PGlite: PostgreSQL 18 in
 * WASM) as on the PostgreSQL 15 production target, compared through the catalogs.
 */
const CATALOG = {
  columns: `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length
              FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name`,
  indexes: `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`,
  constraints: `SELECT c.relname AS table, con.conname AS name, con.contype::text AS type, pg_get_constraintdef(con.oid) AS def
                  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND con.contype <> 'n' ORDER BY con.conname`, // PG 18 lists NOT NULL here too
  enums: `SELECT t.typname AS name, e.enumlabel AS label, e.enumsortorder::float8 AS ord FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY 1, 3`,
};

async function catalog(db: Database): Promise<Record<string, unknown[]>> {
  const s = await db.session();
  try {
    const out: Record<string, unknown[]> = {};
    for (const [k, sql] of Object.entries(CATALOG)) out[k] = await s.query(sql);
    return out;
  } finally {
    await s.release();
  }
}

describe("migrations on the embedded database (PGlite)", { timeout: 60_000 }, () => {
  let dir: string;
  let embedded: Database;
  let pgdb: TestDatabase;
  let pg: Database;
  beforeAll(async () => {
    dir = await freshDataDir();
    embedded = await openDatabase({ DATABASE_URL: undefined, LEASEHOLD_DATA_DIR: dir });
    pgdb = await createTestDatabase();
    pg = await openPg(pgdb.url);
  });
  afterAll(async () => {
    await embedded?.close();
    await pg?.close();
    await pgdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("apply, record Prisma-shaped rows, and are idempotent", async () => {
    const migrations = await readMigrations();
    const names = migrations.map((m) => m.name);
    expect(await embedded.migrate()).toEqual({ applied: names, alreadyApplied: [], checksumMismatches: [] });
    expect(await embedded.migrate()).toEqual({ applied: [], alreadyApplied: names, checksumMismatches: [] });
    const s = await embedded.session();
    try {
      const version = await s.query<{ v: string }>(`SELECT version() AS v`);
      expect(version[0]!.v).toMatch(/^PostgreSQL 1[89]\./); // really the WASM build, not the local server
      const rows = await s.query<{ migration_name: string; checksum: string; id: string; applied_steps_count: number; logs: null; rolled_back_at: null; finished: boolean }>(
        `SELECT migration_name, checksum, id, applied_steps_count, logs, rolled_back_at, finished_at IS NOT NULL AS finished FROM "_prisma_migrations" ORDER BY migration_name`,
      );
      expect(rows).toEqual(
        migrations.map((m) => ({ migration_name: m.name, checksum: m.checksum, id: expect.stringMatching(/^[0-9a-f-]{36}$/), applied_steps_count: 1, logs: null, rolled_back_at: null, finished: true })),
      );
    } finally {
      await s.release();
    }
  });

  it("build the same tables, columns, indexes, constraints and enums as on PostgreSQL 15", async () => {
    await pg.migrate();
    const [onPglite, onPg] = await Promise.all([catalog(embedded), catalog(pg)]);
    expect(onPglite["columns"]!.length).toBeGreaterThan(100);
    expect(onPglite).toEqual(onPg);
  });
});
