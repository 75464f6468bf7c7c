import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import { migrate, MigrationError, readMigrations } from "../../src/db/migrator.js";
import { MIGRATIONS_DIR } from "../../src/paths.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { migrationsDir, openPg, sha256sum, withSession, writeMigration } from "./support.js";

// Prisma's own DDL (sql-schema-connector, flavour/postgres.rs), copied from the notes verbatim.
const PRISMA_DDL = `CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)`;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const LOCK_ID = 72707369;

interface MigrationRow extends Record<string, unknown> {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

describe("migrator", () => {
  let t: TestDatabase;
  let db: Database;
  beforeEach(async () => {
    t = await createTestDatabase();
    db = await openPg(t.url);
  });
  afterEach(async () => {
    await db?.close();
    await t?.drop();
  });

  const rows = () => t.query<MigrationRow>(`SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`);
  const tableExists = async (name: string) =>
    (await t.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1`, [name])).length === 1;
  const columns = (schema: string) =>
    t.query(
      `SELECT ordinal_position, column_name, data_type, character_maximum_length, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      [schema],
    );
  const primaryKey = (schema: string) =>
    t.query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indisprimary AND i.indrelid = $1::regclass`,
      [`${schema}._prisma_migrations`],
    );

  it("20261207020000_secret_tag_names fills tag_names from the tags already linked", async () => {
    const all = await readMigrations(MIGRATIONS_DIR);
    const at = all.findIndex((m) => m.name === "20261207020000_secret_tag_names");
    expect(at).toBeGreaterThan(0);
    await withSession(db, (s) => migrate(s, all.slice(0, at)));
    await t.query(`
      INSERT INTO apps (id, name, updated_at) VALUES ('00000000-0000-4000-8000-000000000001', 'a', now());
      INSERT INTO environments (id, app_id, name, name_lower, wrapped_key, updated_at)
        VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'Dev', 'dev', '\\x00', now());
      INSERT INTO secrets (id, environment_id, path, key_digest, key_cipher, value_cipher, comment_cipher, updated_at) VALUES
        ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000002', '/', 'd1', '\\x00', '\\x00', '\\x00', now()),
        ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000002', '/', 'd2', '\\x00', '\\x00', '\\x00', now());
      INSERT INTO tags (id, name) VALUES ('00000000-0000-4000-8000-000000000005', 'zeta'), ('00000000-0000-4000-8000-000000000006', 'Alpha');
      INSERT INTO secret_tags (secret_id, tag_id) VALUES
        ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000005'),
        ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000006')`);
    await withSession(db, (s) => migrate(s, all));
    expect(await t.query(`SELECT key_digest, tag_names FROM secrets ORDER BY key_digest`)).toEqual([
      { key_digest: "d1", tag_names: ["Alpha", "zeta"] },
      { key_digest: "d2", tag_names: [] },
    ]);
  });

  it("creates _prisma_migrations exactly as Prisma's DDL does", async () => {
    await withSession(db, (s) => migrate(s, []));
    await t.query(`CREATE SCHEMA prisma_ref`);
    await t.query(PRISMA_DDL.replace("_prisma_migrations", "prisma_ref._prisma_migrations"));
    const ours = await columns("public");
    expect(ours).toEqual(await columns("prisma_ref"));
    expect(ours.map((c) => [c["column_name"], c["data_type"], c["is_nullable"], c["column_default"]])).toEqual([
      ["id", "character varying", "NO", null],
      ["checksum", "character varying", "NO", null],
      ["finished_at", "timestamp with time zone", "YES", null],
      ["migration_name", "character varying", "NO", null],
      ["logs", "text", "YES", null],
      ["rolled_back_at", "timestamp with time zone", "YES", null],
      ["started_at", "timestamp with time zone", "NO", "now()"],
      ["applied_steps_count", "integer", "NO", "0"],
    ]);
    expect(await primaryKey("public")).toEqual([{ attname: "id" }]);
    expect(await primaryKey("prisma_ref")).toEqual([{ attname: "id" }]);
  });

  it("applies every migration once and records rows shaped like Prisma's", async () => {
    const migrations = await readMigrations();
    expect(migrations.length).toBeGreaterThanOrEqual(2);
    const result = await withSession(db, (s) => migrate(s, migrations));
    expect(result).toEqual({ applied: migrations.map((m) => m.name), alreadyApplied: [], checksumMismatches: [] });

    const recorded = await rows();
    expect(recorded.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const r of recorded) {
      expect(r.id).toMatch(UUID_V4);
      expect(r.checksum).toBe(sha256sum(join(MIGRATIONS_DIR, r.migration_name, "migration.sql")));
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.finished_at!.getTime()).toBeGreaterThanOrEqual(r.started_at.getTime());
      expect(r.applied_steps_count).toBe(1);
      expect(r.logs).toBeNull();
      expect(r.rolled_back_at).toBeNull();
    }
    expect(await tableExists("secrets")).toBe(true);
  });

  it("is idempotent: a second run applies nothing and adds no row", async () => {
    const migrations = await readMigrations();
    await withSession(db, (s) => migrate(s, migrations));
    const before = await rows();
    const again = await withSession(db, (s) => migrate(s, migrations));
    expect(again).toEqual({ applied: [], alreadyApplied: migrations.map((m) => m.name), checksumMismatches: [] });
    expect(await rows()).toEqual(before);
  });

  it("refuses to run while an unfinished row exists (Prisma's P3009), and releases its lock", async () => {
    await withSession(db, (s) => migrate(s, []));
    await t.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES (gen_random_uuid(), repeat('a', 64), '20261122000000_init')`,
    );
    const attempt = withSession(db, async (s) => migrate(s, await readMigrations()));
    await expect(attempt).rejects.toThrow(MigrationError);
    await expect(attempt).rejects.toThrow(
      "Migration 20261122000000_init failed earlier and is marked unfinished in _prisma_migrations. " +
        "Fix the database by hand, then mark it rolled back or applied (prisma migrate resolve) before starting again.",
    );
    expect(await tableExists("apps")).toBe(false);
    expect(await rows()).toHaveLength(1);
    // Advisory locks are per database; other test files migrate their own databases meanwhile.
    const held = `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    expect(await t.query(held, [LOCK_ID])).toEqual([]);
  });

  it("re-applies a migration whose only row is rolled back", async () => {
    await withSession(db, (s) => migrate(s, []));
    await t.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, rolled_back_at) VALUES (gen_random_uuid(), repeat('a', 64), '20261122000000_init', now())`,
    );
    const migrations = await readMigrations();
    const result = await withSession(db, (s) => migrate(s, migrations));
    expect(result.applied).toEqual(migrations.map((m) => m.name));
    const init = (await rows()).filter((r) => r.migration_name === "20261122000000_init");
    expect(init).toHaveLength(2);
    expect(init.filter((r) => r.rolled_back_at === null && r.finished_at !== null)).toHaveLength(1);
    expect(await tableExists("apps")).toBe(true);
  });

  it("rolls a failing migration back entirely: no table, no row; later ones do not run", async () => {
    const dir = migrationsDir({
      "0001_ok": `CREATE TABLE "ok_table" (id INT);`,
      "0002_bad": `CREATE TABLE "half_table" (id INT);\nINSERT INTO "half_table" VALUES (1);\nSELECT 1 / 0;`,
      "0003_after": `CREATE TABLE "after_table" (id INT);`,
    });
    const attempt = withSession(db, async (s) => migrate(s, await readMigrations(dir)));
    await expect(attempt).rejects.toThrow(/^Migration 0002_bad failed and was rolled back: division by zero$/);
    expect(await tableExists("ok_table")).toBe(true);
    expect(await tableExists("half_table")).toBe(false);
    expect(await tableExists("after_table")).toBe(false);
    expect((await rows()).map((r) => r.migration_name)).toEqual(["0001_ok"]);

    // Fixed file: the next run carries on from there (no unfinished row blocks it).
    writeMigration(dir, "0002_bad", `CREATE TABLE "half_table" (id INT);`);
    const result = await withSession(db, async (s) => migrate(s, await readMigrations(dir)));
    expect(result).toEqual({ applied: ["0002_bad", "0003_after"], alreadyApplied: ["0001_ok"], checksumMismatches: [] });
  });

  it("compares checksums as Prisma does: CRLF/LF flips and old unpadded hex match, a real edit is reported", async () => {
    const lf = `CREATE TABLE "a" (id INT);\nCREATE TABLE "b" (id INT);\n`;
    const dir = migrationsDir({ "0001_lf": lf, "0002_crlf": lf.replaceAll("\n", "\r\n").replaceAll('"a"', '"c"').replaceAll('"b"', '"d"') });
    await withSession(db, async (s) => migrate(s, await readMigrations(dir)));

    writeFileSync(join(dir, "0001_lf", "migration.sql"), lf.replaceAll("\n", "\r\n"));
    writeFileSync(join(dir, "0002_crlf", "migration.sql"), `CREATE TABLE "c" (id INT);\nCREATE TABLE "d" (id INT);\n`);
    const flipped = await withSession(db, async (s) => migrate(s, await readMigrations(dir)));
    expect(flipped).toEqual({ applied: [], alreadyApplied: ["0001_lf", "0002_crlf"], checksumMismatches: [] });

    // prisma-engines#1887: rows written by old versions hold hex without zero padding.
    const digest = createHash("sha256").update(lf.replaceAll("\n", "\r\n")).digest();
    expect([...digest].some((b) => b < 0x10)).toBe(true); // so the unpadded form really differs
    const unpadded = [...digest].map((b) => b.toString(16)).join("");
    await t.query(`UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = '0001_lf'`, [unpadded]);
    writeFileSync(join(dir, "0002_crlf", "migration.sql"), `CREATE TABLE "c" (id BIGINT);\n`);
    const edited = await withSession(db, async (s) => migrate(s, await readMigrations(dir)));
    expect(edited).toEqual({ applied: [], alreadyApplied: ["0001_lf", "0002_crlf"], checksumMismatches: ["0002_crlf"] });
  });

  it("two connections migrating at once apply each migration once, serialised by advisory lock 72707369", async () => {
    const dir = migrationsDir({
      "0001_slow": `CREATE TABLE "slow" (id INT);\nSELECT pg_sleep(0.3);`,
      "0002_next": `CREATE TABLE "next" (id INT);`,
    });
    const migrations = await readMigrations(dir);
    const other = await openPg(t.url);
    try {
      const first = withSession(db, (s) => migrate(s, migrations));
      await until(async () => (await advisoryLocks()).some((l) => l.granted));
      const second = withSession(other, (s) => migrate(s, migrations));
      await until(async () => (await advisoryLocks()).some((l) => !l.granted)); // the second one waits
      const results = await Promise.all([first, second]);
      expect(results[0]).toEqual({ applied: ["0001_slow", "0002_next"], alreadyApplied: [], checksumMismatches: [] });
      expect(results[1]).toEqual({ applied: [], alreadyApplied: ["0001_slow", "0002_next"], checksumMismatches: [] });
      expect((await rows()).map((r) => r.migration_name)).toEqual(["0001_slow", "0002_next"]);
      expect(await advisoryLocks()).toEqual([]);
    } finally {
      await other.close();
    }
  });

  const advisoryLocks = () =>
    t.query<{ granted: boolean }>(
      `SELECT granted FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LOCK_ID],
    );
});

/** Polls a condition about another connection's state (not a clock), failing after 10 s. */
async function until(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
}
