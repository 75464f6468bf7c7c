import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppRepository } from "../../src/apps/repository.js";
import type { Container } from "../../src/container.js";
import type { RunningServer } from "../../src/server.js";
import { createSecretRepository, type SecretRow } from "../../src/secrets/repository.js";
import type { Caller } from "../../src/secrets/types.js";
import { freshDataDir, startEmbedded } from "../embedded/support.js";
import { startTestServer } from "../support/server.js";

/**
 * GET's read (`listLive`: column lists through db.query) must return exactly what the plain-row
 * read inside a transaction (`lockLive`, through Prisma) returns, for data that could break the
 * lists: commas, quotes, braces and non-ASCII in paths and tags, overrides, folders, versions.
 */
async function seed(c: Container) {
  const app = await c.appService.createApp("lists", ["Development"]);
  const env = (await createAppRepository(c.db).findEnvironment(app.environments[0]!.id))!;
  const user = await c.identityService.createUser({ email: "lists@example.com", role: "DEVELOPER" });
  const caller: Caller = {
    principal: { kind: "user", id: user.id, role: "DEVELOPER", email: user.email, username: null, fullName: null, tokenId: user.id, createdAt: user.createdAt, updatedAt: user.updatedAt },
    meta: { ipAddress: "127.0.0.1", userAgent: "test" },
  };
  const created = await c.secretService.create(caller, env, [
    { key: "PLAIN", value: "v", comment: "", type: "secret" },
    { key: "COMMAS", value: "a,b", comment: "c, d", path: '/a,b/"q"/{x}', tags: ["t,1", 'q"2', "ünï", "{b}"], type: "config" },
    { key: "OVERRIDDEN", value: "base", comment: "", path: "/deep/er", tags: ["zz", "aa"], type: "sealed", override: { value: "mine" } },
    { key: "EMPTY_TAGS", value: "", comment: "", path: "/deep", tags: [], type: "secret" },
    // Ciphertexts travel as one base64 text per column: a large one (line breaks, its own buffer) among small ones.
    { key: "LARGE", value: `${"ü".repeat(60_000)}x`, comment: "c".repeat(3_000), type: "secret" },
  ]);
  await c.secretService.update(caller, env, [{ id: created[3]!.id, value: "changed", override: { value: "off", isActive: false } }]);
  return { env, caller, ids: created.map((s) => s.id) };
}

async function bothReads(c: Container, envId: string, userId: string | null, ids: string[]) {
  const repo = createSecretRepository(c.db);
  const fast = await repo.listLive(envId, userId, {});
  const plain = await repo.transaction((tx) => tx.lockLive(envId, ids, userId));
  const comparable = (rows: SecretRow[]) =>
    rows
      .map((r) => ({
        ...r,
        keyCipher: [...r.keyCipher],
        valueCipher: [...r.valueCipher],
        commentCipher: [...r.commentCipher],
        overrideCipher: r.overrideCipher ? [...r.overrideCipher] : null,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  return { fast: comparable(fast), plain: comparable(plain) };
}

function checks(start: () => Promise<{ container: Container; close(): Promise<void> }>) {
  let s: { container: Container; close(): Promise<void> };
  let seeded: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    s = await start();
    seeded = await seed(s.container);
  });
  afterAll(async () => s?.close());

  it("the user's read (overrides included) equals the plain-row read, field for field", async () => {
    const { fast, plain } = await bothReads(s.container, seeded.env.id, seeded.caller.principal.id, seeded.ids);
    expect(fast).toHaveLength(5);
    expect(fast).toEqual(plain);
    expect(fast.find((r) => r.id === seeded.ids[4])!.valueCipher.length).toBe(120_001 + 41);
    const commas = fast.find((r) => r.id === seeded.ids[1]);
    expect(commas).toMatchObject({ path: '/a,b/"q"/{x}', tags: ["q\"2", "t,1", "{b}", "ünï"], type: "config", folderId: expect.any(String) });
    expect(fast.find((r) => r.id === seeded.ids[3])).toMatchObject({ version: 2, overrideActive: false, tags: [] });
    expect(fast.find((r) => r.id === seeded.ids[2])).toMatchObject({ overrideActive: true, tags: ["aa", "zz"] });
  });

  it("tag_names stays what secret_tags says through creates, tag changes and tag removal", async () => {
    const [, commas, overridden] = seeded.ids;
    await s.container.secretService.update(seeded.caller, seeded.env, [
      { id: commas!, tags: ["new", "t,1"] },
      { id: overridden!, tags: [] },
    ]);
    const rows = await s.container.db.query<{ id: string; names: string[]; linked: string[] }>(
      `SELECT s.id, s.tag_names AS names,
              coalesce((SELECT array_agg(t.name ORDER BY t.name COLLATE "C") FROM secret_tags st JOIN tags t ON t.id = st.tag_id
                         WHERE st.secret_id = s.id), '{}') AS linked
         FROM secrets s WHERE s.environment_id = $1::uuid`,
      [seeded.env.id],
    );
    expect(rows).toHaveLength(5);
    for (const r of rows) expect(r.names, r.id).toEqual(r.linked);
    expect(rows.find((r) => r.id === commas)!.names).toEqual(["new", "t,1"]);
    expect(rows.find((r) => r.id === overridden)!.names).toEqual([]);
    const tagged = await createSecretRepository(s.container.db).listLive(seeded.env.id, null, { tagNames: ["new", "nope"] });
    expect(tagged.map((r) => r.id)).toEqual([commas]);
  });

  it("without a user (service accounts) there are no overrides; a filter that matches nothing gives []", async () => {
    const { fast, plain } = await bothReads(s.container, seeded.env.id, null, seeded.ids);
    expect(fast).toEqual(plain);
    expect(fast.every((r) => r.overrideId === null && r.overrideCipher === null)).toBe(true);
    expect(await createSecretRepository(s.container.db).listLive(seeded.env.id, null, { path: "/nowhere" })).toEqual([]);
  });
}

describe("secret list read on PostgreSQL", () => {
  checks(async () => {
    const t = await startTestServer();
    return { container: t.server.container, close: () => t.close() };
  });
});

describe("secret list read on the embedded database", () => {
  checks(async () => {
    const dir = await freshDataDir();
    const e = await startEmbedded(dir);
    const server: RunningServer = e.server;
    return {
      container: server.container,
      close: async () => {
        await e.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
