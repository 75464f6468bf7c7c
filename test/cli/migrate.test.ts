import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/paths.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { runCli } from "./cli.js";

const MIGRATIONS = readdirSync(join(PROJECT_ROOT, "prisma", "migrations")).filter((n) => /^\d{14}_/.test(n)).sort();

describe("leasehold migrate (CLI, as a subprocess)", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it("needs no master key: applies every migration once, then reports the database up to date", async () => {
    const first = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${MIGRATIONS.map((m) => `applied ${m}\n`).join("")}${MIGRATIONS.length} migration(s) applied\n`);
    const rows = await db.query<{ migration_name: string }>(`SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1`);
    expect(rows.map((r) => r.migration_name)).toEqual(MIGRATIONS);

    const again = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(again).toMatchObject({ code: 0, stdout: "database is up to date\n" });
  }, 120_000);

  it("the server itself still refuses to start on PostgreSQL without a master key (exit 78)", async () => {
    const r = await runCli(["serve"], { DATABASE_URL: db.url, PORT: "0" });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("LEASEHOLD_MASTER_KEY: is required when DATABASE_URL is set");
  }, 120_000);
});
