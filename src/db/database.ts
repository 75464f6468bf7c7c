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
  /**
   * One parameterised statement, without Prisma: for hot reads and the audit writer. It runs on
   * its own (a pool connection, or PGlite, which queues it behind an open interactive transaction),
   * never inside a transaction: do not await it inside `prisma.$transaction(async tx => ...)`.
   * Both backends give the same JS types: bytea as Uint8Array (copy it before passing it to Prisma
   * as Bytes), timestamptz as Date, int4 as number, arrays as arrays (cast int8/numeric to int4 or text).
   */
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[], opts?: QueryOptions): Promise<T[]>;
  migrate(): Promise<MigrationResult>;
  close(): Promise<void>;
}

export interface QueryOptions {
  /**
   * Prepares the statement once per connection under this name (PostgreSQL): later runs skip
   * parsing and planning. Only for fixed SQL text: one name, one text, for the process's lifetime.
   */
  name?: string;
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
  const types = queryTypes(pg.types);
  const query = async <T extends Record<string, unknown>>(text: string, values: unknown[] = [], opts: QueryOptions = {}) =>
    (await pool.query<T>({ text, values, types, ...(opts.name ? { name: opts.name } : {}) })).rows;
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
    query,
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
      query: async <T extends Record<string, unknown>>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
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

const BYTEA_OID = 17;
const TIMESTAMPTZ_OID = 1184;

/**
 * pg's parsers for `db.query`, with two changes. bytea: pg gives a Buffer; this gives a plain
 * Uint8Array, as PGlite does (a view of the same bytes: a copy into a fresh ArrayBuffer per value
 * costs about 4x the parse; copy before handing one to Prisma). timestamptz in UTC sessions, the
 * usual output (`2026-11-22 07:06:10.669+00`), is read field by field, about twice as fast as
 * pg's general parser, which handles every other form.
 */
function queryTypes(types: typeof import("pg").types) {
  const bytea = types.getTypeParser(BYTEA_OID, "text") as (text: string) => Buffer;
  const timestamptz = types.getTypeParser(TIMESTAMPTZ_OID, "text") as (text: string) => Date;
  const parsers: Record<number, (text: string) => unknown> = {
    [BYTEA_OID]: (text) => {
      const b = bytea(text);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    [TIMESTAMPTZ_OID]: (text) => parseUtcTimestamp(text) ?? timestamptz(text),
  };
  return {
    getTypeParser: (oid: number, format?: string) => parsers[oid] ?? types.getTypeParser(oid, format as "text"),
  };
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]+00` as a Date (milliseconds, as pg's parser keeps), or null for any other form. */
export function parseUtcTimestamp(s: string): Date | null {
  const n = s.length;
  if (n < 22 || n > 29 || s.charCodeAt(n - 3) !== 43 || s.charCodeAt(n - 2) !== 48 || s.charCodeAt(n - 1) !== 48) return null;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || (n > 22 && s.charCodeAt(19) !== 46)) return null;
  const year = +s.slice(0, 4);
  if (year < 100) return null; // Date.UTC reads 0-99 as 1900-1999
  const ms = n > 22 ? Number(`${s.slice(20, n - 3)}00`.slice(0, 3)) : 0;
  const t = Date.UTC(year, +s.slice(5, 7) - 1, +s.slice(8, 10), +s.slice(11, 13), +s.slice(14, 16), +s.slice(17, 19), ms);
  return Number.isNaN(t) ? null : new Date(t);
}

async function runMigrations(open: () => Promise<SqlSession>): Promise<MigrationResult> {
  const session = await open();
  try {
    return await migrate(session, await readMigrations());
  } finally {
    await session.release();
  }
}

