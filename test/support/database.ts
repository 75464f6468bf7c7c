import { randomBytes } from "node:crypto";
import pg from "pg";

/** The admin connection tests create their databases through (trust auth on the CI machines). */
export const ADMIN_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  /** Runs SQL directly against the test database (assert side effects, tamper with rows). */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

function urlFor(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh, empty database on the local PostgreSQL; drop() removes it (and kills its sessions). */
export async function createTestDatabase(prefix = "lh_test"): Promise<TestDatabase> {
  // The creating process's pid is part of the name, so global-setup never drops a database of a
  // test run that is still going (several runs share this PostgreSQL).
  const name = `${prefix}_${process.pid}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = urlFor(name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() resolves before its clients have closed; drop()'s FORCE may terminate one that is
  // still closing, which the pool re-emits as 'error' (uncaught without a listener).
  pool.on("error", () => undefined);
  return {
    url,
    name,
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
