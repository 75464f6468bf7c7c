import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MasterKeyMismatchError } from "../../src/crypto/envelope.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startTestServer, testMasterKey } from "../support/server.js";
import { runCli } from "../cli/cli.js";

const MISMATCH =
  "LEASEHOLD_MASTER_KEY does not match the master key this database was sealed with. " +
  "Start with the original key (to change keys, use `leasehold rotate-master-key`).";

describe("master key check at start-up", { timeout: 90_000 }, () => {
  let db: TestDatabase;
  const keyA = testMasterKey();
  beforeEach(async () => {
    db = await createTestDatabase();
    const first = await startTestServer({ db, masterKey: keyA });
    await first.server.container.appService.createApp("shop");
    await first.close();
  });
  afterEach(async () => db?.drop());

  it("a server started with another key fails with MasterKeyMismatchError and changes nothing", async () => {
    const before = await db.query(`SELECT canary, rotated_at FROM master_key_check`);
    const attempt = startTestServer({ db, masterKey: testMasterKey() });
    await expect(attempt).rejects.toThrow(MasterKeyMismatchError);
    await expect(attempt).rejects.toThrow(MISMATCH);
    expect(await db.query(`SELECT canary, rotated_at FROM master_key_check`)).toEqual(before);
    const again = await startTestServer({ db, masterKey: keyA }); // the right key still works
    await again.close();
  });

  it("without a canary row (older database), the key is checked against an environment key instead", async () => {
    await db.query(`DELETE FROM master_key_check`);
    await expect(startTestServer({ db, masterKey: testMasterKey() })).rejects.toThrow(MISMATCH);
    expect(await db.query(`SELECT count(*)::int AS n FROM master_key_check`)).toEqual([{ n: 0 }]);
    const ok = await startTestServer({ db, masterKey: keyA });
    await ok.close();
    expect(await db.query(`SELECT count(*)::int AS n FROM master_key_check`)).toEqual([{ n: 1 }]); // canary restored
  });

  it("`leasehold serve` with the wrong key exits 1 with the message on stderr and no stack trace", async () => {
    const r = await runCli(["serve"], { DATABASE_URL: db.url, LEASEHOLD_MASTER_KEY: testMasterKey(), PORT: "0" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`leasehold: ${MISMATCH}\n`);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toContain("Error");
  });
});
