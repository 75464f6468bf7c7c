import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "../../src/generated/prisma/client.js";
import { PROJECT_ROOT } from "../../src/paths.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { columnsOf, readPrismaSchema, type SchemaField } from "./prisma-schema-reader.js";
import { openPg } from "./support.js";

/**
 * prisma/schema.prisma and the hand-written migrations must describe the same database: the client
 * is generated from the one, the database built from the other. Compared on a freshly migrated DB.
 */
const schema = readPrismaSchema(readFileSync(join(PROJECT_ROOT, "prisma", "schema.prisma"), "utf8"));
// Partial unique indexes Prisma's schema language cannot express; they live in the migration SQL.
const HAND_WRITTEN_INDEXES = ["secrets_live_key_unique", "dynamic_secrets_live_name_unique", "audit_events_event_type_occurred_at_idx"];

function expectedType(f: SchemaField): { data_type: string; udt_name: string } {
  if (f.list) return { data_type: "ARRAY", udt_name: `_${expectedType({ ...f, list: false }).udt_name}` };
  if (schema.enums.has(f.type)) return { data_type: "USER-DEFINED", udt_name: f.type };
  const byNative: Record<string, [string, string]> = {
    Uuid: ["uuid", "uuid"],
    Timestamptz: ["timestamp with time zone", "timestamptz"],
  };
  const byType: Record<string, [string, string]> = {
    String: ["text", "text"],
    Int: ["integer", "int4"],
    BigInt: ["bigint", "int8"],
    Boolean: ["boolean", "bool"],
    Bytes: ["bytea", "bytea"],
    Json: ["jsonb", "jsonb"],
    DateTime: ["timestamp without time zone", "timestamp"],
  };
  const t = (f.nativeType && byNative[f.nativeType]) ?? byType[f.type];
  if (!t) throw new Error(`no expected type for ${f.type} @db.${f.nativeType}`);
  return { data_type: t[0], udt_name: t[1] };
}

describe("schema.prisma vs the migrated database", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    const db = await openPg(t.url);
    await db.migrate();
    await db.close();
  });
  afterAll(async () => t?.drop());

  it("the reader sees the same models as the generated client (the client is not stale)", () => {
    expect(schema.models.map((m) => m.name).sort()).toEqual(Object.keys(Prisma.ModelName).sort());
  });

  it("every model has its table and every field its column, with the same type, nullability and default", async () => {
    const rows = await t.query<{ table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string; column_default: string | null }>(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, column_name`,
    );
    const actual = rows.map((r) => ({
      column: `${r.table_name}.${r.column_name}`,
      data_type: r.data_type,
      udt_name: r.udt_name,
      nullable: r.is_nullable === "YES",
      hasDefault: r.column_default !== null,
    }));
    const expected = schema.models
      .flatMap((m) =>
        m.columns.map((f) => ({
          column: `${m.table}.${f.column}`,
          ...expectedType(f),
          nullable: f.optional || f.list, // Prisma creates scalar lists as nullable arrays
          hasDefault: f.hasDefault,
        })),
      )
      .sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
    expect(actual).toEqual(expected);
  });

  it("primary keys, unique constraints and indexes match; only the known partial indexes are extra", async () => {
    const rows = await t.query<{ table: string; name: string; cols: string[]; unique: boolean; primary: boolean; partial: boolean }>(
      `SELECT c.relname AS table, ic.relname AS name, array_agg(a.attname::text ORDER BY k.ord) AS cols,
              i.indisunique AS unique, i.indisprimary AS primary, i.indpred IS NOT NULL AS partial
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE n.nspname = 'public' AND c.relname <> '_prisma_migrations'
        GROUP BY c.relname, ic.relname, i.indisunique, i.indisprimary, i.indpred`,
    );
    const key = (table: string, kind: string, cols: string[]) => `${table} ${kind} (${cols.join(", ")})`;
    const actual = rows
      .filter((r) => !r.partial)
      .map((r) => key(r.table, r.primary ? "PRIMARY" : r.unique ? "UNIQUE" : "INDEX", r.cols))
      .sort();
    const expected = schema.models
      .flatMap((m) => [
        key(m.table, "PRIMARY", columnsOf(m, m.primaryKey)),
        ...m.uniques.map((u) => key(m.table, "UNIQUE", columnsOf(m, u))),
        ...m.indexes.map((i) => key(m.table, "INDEX", columnsOf(m, i))),
      ])
      .sort();
    expect(actual).toEqual(expected);
    expect(rows.filter((r) => r.partial).map((r) => r.name).sort()).toEqual([...HAND_WRITTEN_INDEXES].sort());
  });

  it("every relation has its foreign key with the declared ON DELETE rule", async () => {
    const rows = await t.query<{ fk: string }>(
      `SELECT c.relname || ' (' || (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(n, ord)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n)
              || ') -> ' || f.relname || ' (' || (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(n, ord)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n)
              || ') ON DELETE ' || con.confdeltype::text || ' ON UPDATE ' || con.confupdtype::text AS fk
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class f ON f.oid = con.confrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE con.contype = 'f' AND n.nspname = 'public' ORDER BY 1`,
    );
    const rule: Record<string, string> = { Cascade: "c", SetNull: "n", Restrict: "r", NoAction: "a", SetDefault: "d" };
    const expected = schema.models
      .flatMap((m) =>
        m.foreignKeys.map((f) => {
          const target = schema.models.find((x) => x.name === f.type)!;
          const rel = f.relation!;
          const onDelete = rel.onDelete ?? (f.optional ? "SetNull" : "Restrict"); // Prisma's defaults
          return `${m.table} (${columnsOf(m, rel.fields).join(", ")}) -> ${target.table} (${columnsOf(target, rel.references).join(", ")}) ON DELETE ${rule[onDelete]} ON UPDATE c`;
        }),
      )
      .sort();
    expect(rows.map((r) => r.fk)).toEqual(expected);
  });

  it("every enum has the same labels in the same order", async () => {
    const rows = await t.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY t.typname`,
    );
    expect(rows).toEqual([...schema.enums].map(([name, labels]) => ({ name, labels })).sort((a, b) => (a.name < b.name ? -1 : 1)));
  });
});
