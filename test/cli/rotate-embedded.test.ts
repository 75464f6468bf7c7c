import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { MasterKey } from "../../src/crypto/envelope.js";
import { openDatabase } from "../../src/db/database.js";
import { parseMasterKey } from "../../src/keys/master-key.js";
import { rewrapUnderNewKey } from "../../src/keys/rotation.js";
import { freshDataDir, startEmbedded, type EmbeddedServer } from "../embedded/support.js";
import { runCli } from "./cli.js";
import { decryptAll, EXPECTED_PLAINTEXT, secretRows, seedSecrets } from "./rotate-fixtures.js";

/** Embedded quickstart: the master key lives in <data dir>/master.key and rotation replaces it. */
describe("leasehold rotate-master-key (embedded, key file)", { timeout: 90_000 }, () => {
  const dirs: string[] = [];
  const running: EmbeddedServer[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const start = async (dir: string) => {
    const s = await startEmbedded(dir);
    running.push(s);
    return s;
  };
  const stop = async (s: EmbeddedServer) => {
    await s.close();
    running.splice(running.indexOf(s), 1);
  };
  const keyFile = (dir: string) => join(dir, "master.key");
  const pending = (dir: string) => join(dir, "master.key.new");
  const readKey = (dir: string) => parseMasterKey(readFileSync(keyFile(dir), "utf8"))!;

  /** Built once: a data dir with app "shop" and its secrets, sealed under a generated master.key. */
  let template: { dir: string; appId: string; rows: Record<string, unknown[]> };
  beforeAll(async () => {
    const dir = await freshDataDir();
    const s = await startEmbedded(dir);
    const appId = await seedSecrets(s.server.container);
    const rows = await secretRows(s.server.container.db);
    await s.close();
    template = { dir, appId, rows };
  });
  afterAll(() => rmSync(template.dir, { recursive: true, force: true }));

  /** A private copy of the seeded data dir (server stopped). */
  async function seeded(): Promise<{ dir: string; appId: string; rows: Record<string, unknown[]> }> {
    const dir = mkdtempSync(join(tmpdir(), "leasehold-rotate-"));
    dirs.push(dir);
    cpSync(template.dir, dir, { recursive: true });
    return { ...template, dir };
  }

  it("replaces master.key (mode 0600) without printing it; the data stays readable and the old key is refused", async () => {
    const { dir, appId, rows } = await seeded();
    const oldFile = readFileSync(keyFile(dir), "utf8");
    const r = await runCli(["rotate-master-key"], { LEASEHOLD_DATA_DIR: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "Master key rotated: 3 environment key(s) and 0 server key(s) re-wrapped in one transaction; secret rows unchanged.\n" +
        `The new key is in ${keyFile(dir)}.\n`,
    );
    const newFile = readFileSync(keyFile(dir), "utf8");
    expect(newFile).not.toBe(oldFile);
    expect(r.stdout).not.toContain(newFile.trim());
    expect(statSync(keyFile(dir)).mode & 0o777).toBe(0o600);
    expect(existsSync(pending(dir))).toBe(false);

    const s = await start(dir);
    expect(await secretRows(s.server.container.db)).toEqual(rows);
    expect(await decryptAll(s.server.container, appId)).toEqual(EXPECTED_PLAINTEXT);
    await stop(s);

    writeFileSync(keyFile(dir), oldFile);
    await expect(startEmbedded(dir)).rejects.toThrow(`The master key in ${keyFile(dir)} does not match`);
  });

  it("uses LEASEHOLD_NEW_MASTER_KEY for the new file when given", async () => {
    const { dir, appId } = await seeded();
    const next = Buffer.from(MasterKey.generate()).toString("base64");
    const r = await runCli(["rotate-master-key"], { LEASEHOLD_DATA_DIR: dir, LEASEHOLD_NEW_MASTER_KEY: next });
    expect(r.code).toBe(0);
    expect(readFileSync(keyFile(dir), "utf8")).toBe(`${next}\n`);
    const s = await start(dir);
    expect(await decryptAll(s.server.container, appId)).toEqual(EXPECTED_PLAINTEXT);
  });

  it("is refused while a server runs on the directory", async () => {
    const { dir } = await seeded();
    const keyBefore = readFileSync(keyFile(dir), "utf8");
    await start(dir);
    const r = await runCli(["rotate-master-key"], { LEASEHOLD_DATA_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `leasehold: The embedded database in ${join(dir, "leasehold.lock")} is in use by process ${process.pid}. ` +
        "Stop that process first: two processes on one embedded database silently lose writes.\n",
    );
    expect(readFileSync(keyFile(dir), "utf8")).toBe(keyBefore);
    expect(existsSync(pending(dir))).toBe(false);
  });

  describe("crash windows", () => {
    it("crash after writing master.key.new but before the commit: the next start discards it and keeps the old key", async () => {
      const { dir, appId } = await seeded();
      const oldKey = readKey(dir);
      writeFileSync(pending(dir), `${Buffer.from(MasterKey.generate()).toString("base64")}\n`, { mode: 0o600 });
      const s = await start(dir);
      expect(existsSync(pending(dir))).toBe(false);
      expect(Buffer.from(readKey(dir)).equals(Buffer.from(oldKey))).toBe(true);
      expect(s.logs()).toContainEqual(
        expect.objectContaining({ level: 40, file: pending(dir), msg: "discarded master.key.new from a rotation that never committed; the old key stays in use" }),
      );
      expect(await decryptAll(s.server.container, appId)).toEqual(EXPECTED_PLAINTEXT);
    });

    it("a truncated master.key.new (crash while writing it) is discarded too", async () => {
      const { dir, appId } = await seeded();
      writeFileSync(pending(dir), "dGhpcyBpcyBub3Qg");
      const s = await start(dir);
      expect(existsSync(pending(dir))).toBe(false);
      expect(await decryptAll(s.server.container, appId)).toEqual(EXPECTED_PLAINTEXT);
    });

    it("crash after the commit but before the rename: the next start adopts master.key.new", async () => {
      const { dir, appId, rows } = await seeded();
      const oldKey = readKey(dir);
      const newKey = MasterKey.generate();
      // Steps 1 and 2 of the rotation, then "crash" before step 3.
      writeFileSync(pending(dir), `${Buffer.from(newKey).toString("base64")}\n`, { mode: 0o600 });
      const db = await openDatabase(loadConfig({ LEASEHOLD_DATA_DIR: dir }));
      try {
        await rewrapUnderNewKey(db.prisma, new MasterKey(oldKey), new MasterKey(newKey), new Date());
      } finally {
        await db.close();
      }

      const s = await start(dir);
      expect(existsSync(pending(dir))).toBe(false);
      expect(Buffer.from(readKey(dir)).equals(Buffer.from(newKey))).toBe(true);
      expect(statSync(keyFile(dir)).mode & 0o777).toBe(0o600);
      expect(s.logs()).toContainEqual(
        expect.objectContaining({ level: 40, file: keyFile(dir), msg: "completed an interrupted master key rotation: adopted master.key.new" }),
      );
      expect(await secretRows(s.server.container.db)).toEqual(rows);
      expect(await decryptAll(s.server.container, appId)).toEqual(EXPECTED_PLAINTEXT);
    });
  });
});
