import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { MasterKey } from "../../src/crypto/envelope.js";
import type { Database } from "../../src/db/database.js";
import { rewrapUnderNewKey, rotateMasterKey } from "../../src/keys/rotation.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startTestServer, testMasterKey } from "../support/server.js";
import { openPg } from "../db/support.js";
import { runCli } from "./cli.js";
import { decryptAll, environmentRows, EXPECTED_PLAINTEXT, secretRows, seedSecrets } from "./rotate-fixtures.js";

const MISMATCH =
  "LEASEHOLD_MASTER_KEY does not match the master key this database was sealed with. " +
  "Start with the original key (to change keys, use `leasehold rotate-master-key`).";
const keyBytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));
const silent = createLogger("silent");

describe("leasehold rotate-master-key (PostgreSQL, key from LEASEHOLD_MASTER_KEY)", { timeout: 90_000 }, () => {
  let tdb: TestDatabase;
  let db: Database | undefined;
  const keyA = testMasterKey();
  let appId: string;
  const serverKey = new Uint8Array(randomBytes(32));

  beforeEach(async () => {
    tdb = await createTestDatabase();
    const t = await startTestServer({ db: tdb, masterKey: keyA });
    appId = await seedSecrets(t.server.container);
    await t.server.container.db.prisma.serverKey.create({ data: { purpose: "leases", wrappedKey: t.server.container.masterKey.wrapServerKey("leases", serverKey) } });
    await t.close();
    db = await openPg(tdb.url);
  });
  afterEach(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it("re-wraps every key under the new one in one go; secret rows stay byte-identical; only the new key starts", async () => {
    const rowsBefore = await secretRows(db!);
    expect([rowsBefore["secrets"]!.length, rowsBefore["personal_secrets"]!.length, rowsBefore["secret_tags"]!.length]).toEqual([3, 1, 1]);
    const envsBefore = await environmentRows(db!);
    const keyB = testMasterKey();

    const r = await runCli(["rotate-master-key"], { DATABASE_URL: tdb.url, LEASEHOLD_MASTER_KEY: keyA, LEASEHOLD_NEW_MASTER_KEY: keyB });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "Master key rotated: 3 environment key(s) and 1 server key(s) re-wrapped in one transaction; secret rows unchanged.\n" +
        "Set LEASEHOLD_MASTER_KEY to the new key and restart every Leasehold server: one still running with the old key can no longer read secrets.\n",
    );
    expect(r.stdout).not.toContain(keyB);

    expect(await secretRows(db!)).toEqual(rowsBefore);
    const envsAfter = await environmentRows(db!);
    expect(envsAfter.map((e) => e.id)).toEqual(envsBefore.map((e) => e.id));
    const A = new MasterKey(keyBytes(keyA));
    const B = new MasterKey(keyBytes(keyB));
    envsAfter.forEach((e, i) => {
      const before = envsBefore[i]!;
      expect(Buffer.from(e.wrapped_key).equals(Buffer.from(before.wrapped_key))).toBe(false);
      expect(e.updated_at).toEqual(before.updated_at); // a re-wrap is not an edit
      expect(B.unwrap(e.id, e.wrapped_key)).toEqual(A.unwrap(before.id, before.wrapped_key));
    });
    const sk = await tdb.query<{ wrapped_key: Uint8Array }>(`SELECT wrapped_key FROM server_keys`);
    expect(Buffer.from(B.unwrapServerKey("leases", sk[0]!.wrapped_key)).equals(Buffer.from(serverKey))).toBe(true);
    const check = await tdb.query<{ canary: Uint8Array; rotated_at: Date | null }>(`SELECT canary, rotated_at FROM master_key_check`);
    expect(B.opensCanary(check[0]!.canary)).toBe(true);
    expect(check[0]!.rotated_at).toBeInstanceOf(Date);

    await expect(startTestServer({ db: tdb, masterKey: keyA })).rejects.toThrow(MISMATCH);
    const t = await startTestServer({ db: tdb, masterKey: keyB });
    try {
      expect(await decryptAll(t.server.container, appId)).toEqual(EXPECTED_PLAINTEXT);
    } finally {
      await t.close();
    }
  });

  it("without LEASEHOLD_NEW_MASTER_KEY generates a key and prints it once, before committing", async () => {
    const r = await runCli(["rotate-master-key"], { DATABASE_URL: tdb.url, LEASEHOLD_MASTER_KEY: keyA });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("New master key, shown only this once. Store it safely now:");
    const printed = lines[1]!;
    expect(printed).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(r.stdout.split(printed)).toHaveLength(2); // exactly once
    expect(lines[2]).toMatch(/^Master key rotated: 3 environment key\(s\)/);
    const t = await startTestServer({ db: tdb, masterKey: printed });
    try {
      expect(await decryptAll(t.server.container, appId)).toEqual(EXPECTED_PLAINTEXT);
    } finally {
      await t.close();
    }
  });

  it("refuses a wrong current key, a bad new key (exit 78, value not echoed) and the same key, changing nothing", async () => {
    const envsBefore = await environmentRows(db!);
    const wrong = await runCli(["rotate-master-key"], { DATABASE_URL: tdb.url, LEASEHOLD_MASTER_KEY: testMasterKey(), LEASEHOLD_NEW_MASTER_KEY: testMasterKey() });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(`leasehold: ${MISMATCH}\n`);

    const badValue = "c2hvcnQta2V5"; // base64 of 9 bytes
    const bad = await runCli(["rotate-master-key"], { DATABASE_URL: tdb.url, LEASEHOLD_MASTER_KEY: keyA, LEASEHOLD_NEW_MASTER_KEY: badValue });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toBe(
      "leasehold: Invalid configuration:\n  - LEASEHOLD_NEW_MASTER_KEY: must be the base64 encoding of exactly 32 bytes (openssl rand -base64 32)\n",
    );
    expect(`${bad.stdout}${bad.stderr}`).not.toContain(badValue);

    const same = await runCli(["rotate-master-key"], { DATABASE_URL: tdb.url, LEASEHOLD_MASTER_KEY: keyA, LEASEHOLD_NEW_MASTER_KEY: keyA });
    expect(same.code).toBe(1);
    expect(same.stderr).toBe("leasehold: LEASEHOLD_NEW_MASTER_KEY is the current master key; nothing to rotate.\n");
    expect(await environmentRows(db!)).toEqual(envsBefore);
  });

  it("one blob the current key cannot open aborts the whole rotation", async () => {
    const envsBefore = await environmentRows(db!);
    const victim = envsBefore[1]!;
    const tampered = Uint8Array.from(victim.wrapped_key);
    tampered[30]! ^= 1;
    await tdb.query(`UPDATE environments SET wrapped_key = $1 WHERE id = $2`, [Buffer.from(tampered), victim.id]);
    const canaryBefore = await tdb.query(`SELECT * FROM master_key_check`);

    const config = loadConfig({ DATABASE_URL: tdb.url, LEASEHOLD_MASTER_KEY: keyA });
    await expect(rotateMasterKey({ config, prisma: db!.prisma, log: silent, now: new Date(), newKey: MasterKey.generate() })).rejects.toThrow(
      `The current master key cannot open environment ${victim.id}; nothing was changed. The database may be damaged.`,
    );
    const after = await environmentRows(db!);
    expect(after.filter((e) => e.id !== victim.id)).toEqual(envsBefore.filter((e) => e.id !== victim.id));
    expect(await tdb.query(`SELECT * FROM master_key_check`)).toEqual(canaryBefore);
  });

  it("waits for a concurrent environment insert and re-wraps it too (no key left under the old master key)", async () => {
    const A = new MasterKey(keyBytes(keyA));
    const next = new MasterKey(MasterKey.generate());
    const other = await openPg(tdb.url);
    const s = await other.session();
    try {
      const envId = randomUUID();
      await s.exec("BEGIN");
      await s.query(`INSERT INTO environments (id, app_id, name, name_lower, sort_order, wrapped_key, updated_at) VALUES ($1, $2, 'Late', 'late', 9, $3, now())`, [
        envId,
        appId,
        Buffer.from(A.createEnvironmentKeys(envId).wrapped),
      ]);
      const rotation = rewrapUnderNewKey(db!.prisma, A, next, new Date());
      await until(async () => (await tdb.query(`SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'environments' AND NOT l.granted`)).length > 0);
      await s.exec("COMMIT");
      expect(await rotation).toEqual({ environments: 4, serverKeys: 1 });
      for (const e of await environmentRows(db!)) expect(() => next.unwrap(e.id, e.wrapped_key)).not.toThrow();
    } finally {
      await s.release();
      await other.close();
    }
  });
});

/** Polls another connection's state (not a clock), failing after 10 s. */
async function until(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
}
