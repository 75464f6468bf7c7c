import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { PrismaClient } from "../generated/prisma/client.js";
import type { Config } from "../config.js";
import { acquirePidLock } from "./lockfile.js";
import { migrate, readMigrations, type MigrationResult } from "./migrator.js";
import type { SqlSession } from "./sql.js";

export type Prisma = PrismaClient;

export interface Database {
  readonly kind: "postgres" | "embedded";
  readonly prisma: PrismaClient;
  /** A session on one connection, for the migrator and multi-statement scripts. */
  session(): Promise<SqlSession>;
  migrate(): Promise<MigrationResult>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** pg pool size (ignored by the embedded database, which has one connection). */
  poolSize?: number;
}

export async function openDatabase(config: Pick<Config, "DATABASE_URL" | "LEASEHOLD_DATA_DIR">, opts: DatabaseOptions = {}): Promise<Database> {
  return config.DATABASE_URL
    ? openPostgres(config.DATABASE_URL, opts)
    : openEmbedded(config.LEASEHOLD_DATA_DIR);
}

async function openPostgres(url: string, opts: DatabaseOptions): Promise<Database> {
  const { default: pg } = await import("pg");
  const { PrismaPg } = await import("@prisma/adapter-pg");
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  pool.on("error", () => undefined); // idle-client errors surface on the next query instead
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const session = async (): Promise<SqlSession> => {
    const client = await pool.connect();
    return {
      query: async <T extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
        (await client.query(sql, params)).rows as T[],
      exec: async (sql: string) => {
        await client.query(sql);
      },
      release: async () => client.release(),
    };
  };
  return {
    kind: "postgres",
    prisma,
    session,
    migrate: () => runMigrations(session),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openEmbedded(dataDir: string): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const release = acquirePidLock(join(root, "leasehold.lock"));
  try {
    const db = await PGlite.create(join(root, "pgdata"));
    // One connection: every query waits for an open transaction, so give transactions room to queue.
    const prisma = new PrismaClient({
      adapter: new PrismaPGlite(db),
      transactionOptions: { maxWait: 30_000, timeout: 30_000 },
    });
    const session = async (): Promise<SqlSession> => ({
      query: async <T extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
        (await db.query<T>(sql, params)).rows,
      exec: async (sql: string) => {
        await db.exec(sql);
      },
      release: async () => undefined,
    });
    return {
      kind: "embedded",
      prisma,
      session,
      migrate: () => runMigrations(session),
      close: async () => {
        try {
          await prisma.$disconnect();
          await db.close();
        } finally {
          release();
        }
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

async function runMigrations(open: () => Promise<SqlSession>): Promise<MigrationResult> {
  const session = await open();
  try {
    return await migrate(session, await readMigrations());
  } finally {
    await session.release();
  }
}

