import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readMigrations } from "../../src/db/migrator.js";
import { MIGRATIONS_DIR } from "../../src/paths.js";

/**
 * Our migrator sends each file as one simple-protocol script, but Prisma's driver adapters
 * (@prisma/adapter-pg executeScript, used by `prisma migrate deploy` with an adapter) split the file
 * on every ';'. A ';' in a comment or a string literal then breaks Prisma's deploy of our files
 * (checked with Prisma 6.19 + adapter-pg 7.10: "syntax error at or near ..."), so keep ';' for
 * statement ends only. Dollar-quoted bodies (functions) would hit the same split.
 */
describe("migration files", () => {
  it("are found in name order, each with a migration.sql", async () => {
    const migrations = await readMigrations();
    const names = migrations.map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    expect(names).toEqual([...names].sort());
    for (const n of names) expect(n).toMatch(/^\d{14}_[a-z0-9_]+$/);
  });

  it("use ';' only to end statements (Prisma's adapter splits scripts on every ';')", async () => {
    for (const m of await readMigrations()) {
      const offenders = m.script
        .split("\n")
        .map((line, i) => ({ line, n: i + 1 }))
        .filter(({ line }) => /--.*;/.test(line) || /'[^']*;[^']*'/.test(line) || line.includes("$$"));
      expect(offenders.map((o) => `${m.name}:${o.n}: ${o.line}`)).toEqual([]);
    }
  });

  it("match migration_lock.toml's provider", () => {
    expect(readFileSync(join(MIGRATIONS_DIR, "migration_lock.toml"), "utf8")).toMatch(/provider\s*=\s*"postgresql"/);
  });
});
