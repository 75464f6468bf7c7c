import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppRepository } from "../../src/apps/repository.js";
import { ManualClock } from "../../src/clock.js";
import { hashToken } from "../../src/crypto/tokens.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { createIdentityRepository } from "../../src/identity/repository.js";
import { createIdentityService, type IssuedToken } from "../../src/identity/service.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/**
 * The first-Owner bootstrap against real PostgreSQL, from two connection pools at once (as two
 * server processes starting together would).
 */
describe("bootstrap of the first Owner", () => {
  let tdb: TestDatabase;
  const dbs: Database[] = [];
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    for (const db of dbs) await db.close();
    await tdb?.drop();
  });

  async function service() {
    const db = await openDatabase({ DATABASE_URL: tdb.url, LEASEHOLD_DATA_DIR: "" }, { poolSize: 4 });
    dbs.push(db);
    return createIdentityService({
      identity: createIdentityRepository(db),
      apps: createAppRepository(db),
      clock: new ManualClock(),
    });
  }

  it("creates exactly one Owner when many bootstraps race on separate pools", async () => {
    const a = await service();
    const b = await service();
    await dbs[0]!.migrate();
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).bootstrap({})));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const issued = results.flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value] : [])) as IssuedToken[];
    expect(issued).toHaveLength(1);
    expect(await tdb.query(`SELECT email, role::text AS role FROM users`)).toEqual([{ email: "owner@leasehold.local", role: "OWNER" }]);
    expect(await tdb.query(`SELECT token_hash, kind::text AS kind FROM api_tokens`)).toEqual([
      { token_hash: hashToken(issued[0]!.token), kind: "USER" },
    ]);
    // And later bootstraps keep refusing, with or without a token.
    expect(await a.bootstrap({ token: "b".repeat(64) })).toBeNull();
    expect(await tdb.query(`SELECT id FROM api_tokens`)).toHaveLength(1);
  });

  it("refuses a malformed bootstrap token", async () => {
    const s = await service();
    await expect(s.bootstrap({ token: "ABC" })).rejects.toThrow("The bootstrap token must be 64 lowercase hex characters.");
  });
});
