import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import supertest from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { MasterKey } from "../../src/crypto/envelope.js";
import { readMigrations } from "../../src/db/migrator.js";
import { freshDataDir, startEmbedded, type EmbeddedServer } from "./support.js";

const GENERATED_KEY_WARNING =
  "No LEASEHOLD_MASTER_KEY set: generated a master key in the data directory for the embedded quickstart. " +
  "Anyone who can read that file can decrypt every secret; set LEASEHOLD_MASTER_KEY for real deployments.";

describe("embedded mode (no DATABASE_URL)", { timeout: 60_000 }, () => {
  const running: EmbeddedServer[] = [];
  const dirs: string[] = [];
  const start = async (dir: string, env?: Record<string, string>) => {
    const s = await startEmbedded(dir, env);
    running.push(s);
    return s;
  };
  const newDir = async () => {
    const d = await freshDataDir();
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const s of running.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("first start migrates, writes master.key (0600) with a warning, and serves requests", async () => {
    const dir = await newDir();
    expect(existsSync(join(dir, "master.key"))).toBe(false);
    const s = await start(dir);
    expect(s.server.container.db.kind).toBe("embedded");

    const keyFile = join(dir, "master.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64")).toHaveLength(32);
    const warning = s.logs().filter((l) => l["msg"] === GENERATED_KEY_WARNING);
    expect(warning).toEqual([expect.objectContaining({ level: 40, file: keyFile })]);

    const names = (await readMigrations()).map((m) => m.name);
    expect(s.logs().find((l) => l["msg"] === "applied database migrations")?.["applied"]).toEqual(names);
    const session = await s.server.container.db.session();
    try {
      const rows = await session.query<{ migration_name: string; applied_steps_count: number; finished: boolean }>(
        `SELECT migration_name, applied_steps_count, finished_at IS NOT NULL AS finished FROM "_prisma_migrations" ORDER BY migration_name`,
      );
      expect(rows).toEqual(names.map((migration_name) => ({ migration_name, applied_steps_count: 1, finished: true })));
    } finally {
      await session.release();
    }

    const res = await supertest(s.server.url).get("/");
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ok");
    expect(existsSync(join(dir, "leasehold.lock"))).toBe(true);
  });

  it("keeps its data and its master key across a restart on the same directory", async () => {
    const dir = await newDir();
    const first = await start(dir);
    const app = await first.server.container.appService.createApp("shop", ["Development", "Production"]);
    const envId = app.environments[0]!.id;
    const env = await first.server.container.db.prisma.environment.findUniqueOrThrow({ where: { id: envId } });
    const keysBefore = first.server.container.masterKey.unwrap(envId, env.wrappedKey);
    const keyFileBefore = readFileSync(join(dir, "master.key"), "utf8");
    await first.close();
    expect(existsSync(join(dir, "leasehold.lock"))).toBe(false);

    const second = await start(dir);
    expect(readFileSync(join(dir, "master.key"), "utf8")).toBe(keyFileBefore);
    expect(second.logs().some((l) => l["msg"] === GENERATED_KEY_WARNING)).toBe(false);
    expect(second.logs().some((l) => l["msg"] === "applied database migrations")).toBe(false);
    const again = await second.server.container.appService.getApp(app.id);
    expect(again.name).toBe("shop");
    expect(again.environments.map((e) => e.name)).toEqual(["Development", "Production"]);
    const envAfter = await second.server.container.db.prisma.environment.findUniqueOrThrow({ where: { id: envId } });
    const keysAfter = second.server.container.masterKey.unwrap(envId, envAfter.wrappedKey);
    expect(Buffer.from(keysAfter.dataKey).equals(Buffer.from(keysBefore.dataKey))).toBe(true);
    expect(keysAfter.salt).toBe(keysBefore.salt);
  });

  it("refuses to start when master.key was replaced, naming the file, and leaves the directory unlocked", async () => {
    const dir = await newDir();
    await (await start(dir)).close();
    running.length = 0;
    writeFileSync(join(dir, "master.key"), `${Buffer.from(MasterKey.generate()).toString("base64")}\n`);
    await expect(startEmbedded(dir)).rejects.toThrow(
      `The master key in ${join(dir, "master.key")} does not match the master key this database was sealed with. ` +
        "Start with the original key (to change keys, use `leasehold rotate-master-key`).",
    );
    expect(existsSync(join(dir, "leasehold.lock"))).toBe(false);
  });

  it("refuses to start when master.key is missing next to existing data, and does not write a new one", async () => {
    const dir = await newDir();
    await (await start(dir)).close();
    running.length = 0;
    rmSync(join(dir, "master.key"));
    await expect(startEmbedded(dir)).rejects.toThrow(
      `${join(dir, "master.key")} is missing, but the database next to it holds data sealed under a master key. ` +
        "Restore the file from your backup (or set LEASEHOLD_MASTER_KEY to that key).",
    );
    expect(existsSync(join(dir, "master.key"))).toBe(false);
  });

  it("uses LEASEHOLD_MASTER_KEY instead of a key file when it is set", async () => {
    const dir = await newDir();
    const key = Buffer.from(MasterKey.generate()).toString("base64");
    const s = await start(dir, { LEASEHOLD_MASTER_KEY: key });
    expect(existsSync(join(dir, "master.key"))).toBe(false);
    expect(s.logs().some((l) => l["msg"] === GENERATED_KEY_WARNING)).toBe(false);
  });

  it("a second open of the same directory in this process is refused", async () => {
    const dir = await newDir();
    await start(dir);
    await expect(startEmbedded(dir)).rejects.toMatchObject({ name: "DataDirLockedError" });
  });
});
