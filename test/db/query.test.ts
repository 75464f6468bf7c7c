import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, parseUtcTimestamp, type Database } from "../../src/db/database.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { openPg } from "./support.js";

const pgTimestamp = pg.types.getTypeParser(1184, "text") as (text: string) => Date;

describe("parseUtcTimestamp (the fast path of db.query's timestamptz parser)", () => {
  it("reads PostgreSQL's UTC output exactly as pg's own parser does (milliseconds, truncated)", () => {
    const forms = [
      "2026-11-22 07:06:10+00",
      "2026-11-22 07:06:10.5+00",
      "2026-11-22 07:06:10.05+00",
      "2026-11-22 07:06:10.669+00",
      "2026-11-22 07:06:10.6691+00",
      "2026-11-22 07:06:10.66999+00",
      "2026-11-22 07:06:10.999999+00",
      "1970-01-01 00:00:00+00",
      "2000-02-29 23:59:59.001+00",
      "9999-12-31 23:59:59.999999+00",
      "0100-03-01 00:00:00+00",
    ];
    for (const text of forms) expect([text, parseUtcTimestamp(text)?.toISOString()]).toEqual([text, pgTimestamp(text).toISOString()]);
  });

  it("declines every other form (pg's parser reads those)", () => {
    for (const text of [
      "2026-11-22 07:06:10+05:30",
      "2026-11-22 07:06:10.5-03",
      "2026-11-22 07:06:10+01",
      "0001-01-01 00:00:00+00 BC",
      "0050-01-01 00:00:00+00",
      "12026-11-22 07:06:10+00",
      "infinity",
      "-infinity",
      "2026-11-22T07:06:10+00",
      "",
    ]) {
      expect([text, parseUtcTimestamp(text)]).toEqual([text, null]);
    }
  });
});

const SQL = `
  SELECT '\\x00ff10'::bytea AS b, NULL::bytea AS nb, $1::timestamptz AS at, $2::uuid[] AS ids, $3::int[] AS versions,
         ARRAY['a', 'b,c', NULL] AS texts, 7 AS n`;

function checkTypes(rows: Record<string, unknown>[], at: Date, ids: string[]): void {
  expect(rows).toHaveLength(1);
  const r = rows[0]!;
  expect(Buffer.isBuffer(r["b"])).toBe(false);
  expect(r["b"]).toBeInstanceOf(Uint8Array);
  expect([...(r["b"] as Uint8Array)]).toEqual([0, 255, 16]);
  expect(r["nb"]).toBeNull();
  expect(r["at"]).toEqual(at);
  expect(r["ids"]).toEqual(ids);
  expect(r["versions"]).toEqual([1, 2]);
  expect(r["texts"]).toEqual(["a", "b,c", null]);
  expect(r["n"]).toBe(7);
}

describe("db.query gives the same JS types on both backends", () => {
  let t: TestDatabase;
  let postgres: Database;
  let embedded: Database;
  let dir: string;
  const at = new Date(Date.UTC(2026, 10, 22, 7, 6, 10, 669));
  const ids = ["2f1c7a0e-7b5a-4c1e-9d4c-0f6b2d8e1a11", "0b7e3d2a-1c4f-4a8b-b9e6-5d2c1f0a3e22"];

  beforeAll(async () => {
    t = await createTestDatabase();
    postgres = await openPg(t.url);
    dir = mkdtempSync(join(tmpdir(), "lh-query-embedded-"));
    embedded = await openDatabase({ DATABASE_URL: undefined, LEASEHOLD_DATA_DIR: dir });
  });
  afterAll(async () => {
    await postgres?.close();
    await embedded?.close();
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("PostgreSQL: bytea as Uint8Array (not Buffer), timestamptz as Date, arrays, int4; a named statement runs again with new values", async () => {
    checkTypes(await postgres.query(SQL, [at, ids, [1, 2]], { name: "lh_test_types" }), at, ids);
    const later = new Date(at.getTime() + 1_234);
    checkTypes(await postgres.query(SQL, [later, ids, [1, 2]], { name: "lh_test_types" }), later, ids);
  });

  it("PostgreSQL: a session in another time zone still gives the right instant (pg's parser takes over)", async () => {
    const one = await openDatabase({ DATABASE_URL: t.url, LEASEHOLD_DATA_DIR: "unused" }, { poolSize: 1 });
    try {
      await one.query(`SET TimeZone = 'Asia/Kolkata'`);
      const rows = await one.query<{ at: Date; text: string }>(`SELECT $1::timestamptz AS at, $1::timestamptz::text AS text`, [at]);
      expect(rows[0]!.text).toMatch(/\+05:30$/);
      expect(rows[0]!.at).toEqual(at);
    } finally {
      await one.close();
    }
  });

  it("embedded (PGlite): the same types for the same statement", async () => {
    checkTypes(await embedded.query(SQL, [at, ids, [1, 2]], { name: "lh_test_types" }), at, ids);
  });
});
