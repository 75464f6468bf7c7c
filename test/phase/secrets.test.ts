import sodium from "libsodium-wrappers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phaseFixture, type PhaseFixture } from "./fixtures.js";

const FIELDS = ["id", "key", "value", "comment", "tags", "override", "type", "lifecycle", "path", "keyDigest", "version", "createdAt", "updatedAt", "environment", "folder"];
type Secret = Record<string, unknown> & { id: string; key: string; value: string; path: string; version: number; tags: string[] };

let f: PhaseFixture;
beforeAll(async () => {
  await sodium.ready;
  f = await phaseFixture();
});
afterAll(async () => f?.close());

const post = (secrets: unknown[], env = "Development") => f.t.http.post(f.url(env)).set("Authorization", f.sa.auth).send({ secrets });
const put = (secrets: unknown[]) => f.t.http.put(f.url()).set("Authorization", f.sa.auth).send({ secrets });
const del = (ids: string[], env = "Development") => f.t.http.delete(f.url(env)).set("Authorization", f.sa.auth).send({ secrets: ids });
const list = async (extra: Record<string, string> = {}): Promise<Secret[]> => {
  const res = await f.t.http.get(f.url("Development", extra)).set("Authorization", f.sa.auth);
  expect(res.status).toBe(200);
  return res.body;
};
const created = async (secrets: unknown[]): Promise<Secret[]> => {
  const res = await post(secrets);
  expect(res.status).toBe(200);
  return res.body;
};
const wipe = () => f.t.db.query(`TRUNCATE secrets, folders, tags CASCADE`);

/** The environment's keyDigest salt, unwrapped with the server's master key. */
async function saltOf(envId: string): Promise<string> {
  const [row] = await f.t.db.query<{ wrapped_key: Uint8Array }>(`SELECT wrapped_key FROM environments WHERE id = $1`, [envId]);
  return f.t.server.container.masterKey.unwrap(envId, new Uint8Array(row!.wrapped_key)).salt;
}

describe("the secret object", () => {
  it("POST answers 200 with Phase's fields in Phase's order, timestamps with microseconds", async () => {
    f.t.clock.set(Date.parse("2024-02-13T13:41:45.551Z"));
    const res = await post([{ key: "debug", value: "False", comment: "Debug mode", tags: ["config"], path: "/backend" }]);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    const s = res.body[0];
    expect(Object.keys(s)).toEqual(FIELDS);
    const [folder] = await f.t.db.query<{ id: string }>(`SELECT id FROM folders WHERE path = '/backend'`);
    expect(s).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      key: "DEBUG",
      value: "False",
      comment: "Debug mode",
      tags: ["config"],
      override: null,
      type: "secret",
      lifecycle: "static",
      path: "/backend",
      keyDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
      version: 1,
      createdAt: "2024-02-13T13:41:45.551000Z",
      updatedAt: "2024-02-13T13:41:45.551000Z",
      environment: f.envs["Development"],
      folder: folder!.id,
    });
    const got = await list();
    expect(got).toEqual([s]);
    expect(JSON.stringify(got[0])).toBe(JSON.stringify(s));
  });

  it("keyDigest is BLAKE2b-256 of the upper-cased key keyed with the environment salt (independent libsodium)", async () => {
    const [s] = await list({ key: "DEBUG" });
    const salt = await saltOf(f.envs["Development"]!);
    expect(s!.keyDigest).toBe(sodium.crypto_generichash(32, sodium.from_string("DEBUG"), sodium.from_string(salt), "hex"));
    // Another environment has another salt, hence another digest for the same key.
    const other = await f.t.http.post(f.url("Staging")).set("Authorization", f.owner.auth).send({ secrets: [{ key: "DEBUG", value: "x" }] });
    expect(other.status).toBe(200);
    expect(other.body[0].keyDigest).not.toBe(s!.keyDigest);
  });

  it("key filter matches any case of a key written by this API", async () => {
    for (const key of ["debug", "DEBUG", "Debug"]) expect((await list({ key })).map((s) => s.key)).toEqual(["DEBUG"]);
    expect(await list({ key: "NOPE" })).toEqual([]);
  });
});

describe("paths and folders (notes 3.6)", () => {
  beforeAll(wipe);

  it.each([
    ["backend//api/", "/backend/api"],
    ["//x", "/x"],
    ["", "/"],
    ["/", "/"],
  ])("path %j is stored as %j", async (path, normalised) => {
    const [s] = await created([{ key: `K${normalised.length}${path.length}`, value: "v", path }]);
    expect(s!.path).toBe(normalised);
    expect((await list({ path })).map((x) => x.id)).toContain(s!.id);
  });

  it("a non-string or missing path is /, and / has no folder", async () => {
    const [a, b] = await created([{ key: "ROOT1", value: "v", path: 5 }, { key: "ROOT2", value: "v" }]);
    expect([a!.path, b!.path, a!.folder, b!.folder]).toEqual(["/", "/", null, null]);
  });

  it("folders are created for the path and each parent; folder is the deepest", async () => {
    const [s] = await created([{ key: "DEEP", value: "v", path: "/a/b/c" }]);
    const rows = await f.t.db.query<{ id: string; path: string }>(
      `SELECT id, path FROM folders WHERE environment_id = $1 AND path LIKE '/a%' ORDER BY path`,
      [f.envs["Development"]],
    );
    expect(rows.map((r) => r.path)).toEqual(["/a", "/a/b", "/a/b/c"]);
    expect(s!.folder).toBe(rows[2]!.id);
    const [again] = await created([{ key: "DEEP2", value: "v", path: "a/b/" }]);
    expect(again!.folder).toBe(rows[1]!.id);
    expect(await f.t.db.query(`SELECT 1 FROM folders WHERE path LIKE '/a%'`)).toHaveLength(3);
  });

  it("the path filter is an exact folder match, not recursive; an empty path is ignored", async () => {
    expect((await list({ path: "/a/b" })).map((s) => s.key)).toEqual(["DEEP2"]);
    expect((await list({ path: "/a" })).map((s) => s.key)).toEqual([]);
    expect((await list({ path: "" })).length).toBe((await list()).length);
  });

  it("results come in a stable order: path, then creation, then key", async () => {
    f.t.clock.advance(1000);
    await created([{ key: "ZZ", value: "v" }, { key: "AA", value: "v" }]);
    const keys = (await list()).map((s) => `${s.path}:${s.key}`);
    expect(keys.filter((k) => k.startsWith("/:"))).toEqual(["/:K10", "/:K11", "/:ROOT1", "/:ROOT2", "/:AA", "/:ZZ"]);
    expect(keys.indexOf("/a/b:DEEP2")).toBeLessThan(keys.indexOf("/a/b/c:DEEP"));
  });
});

describe("tags", () => {
  beforeAll(wipe);

  it("unknown tags are created organisation-wide; names are stripped", async () => {
    await created([{ key: "T1", value: "v", tags: [" aws ", "db"] }, { key: "T2", value: "v", tags: ["db", "postgres"] }, { key: "T3", value: "v" }]);
    const names = (await f.t.db.query<{ name: string }>(`SELECT name FROM tags ORDER BY name`)).map((r) => r.name);
    expect(names).toEqual(["aws", "db", "postgres"]);
    // Another environment reuses the same tag rows.
    await f.t.http.post(f.url("Staging")).set("Authorization", f.owner.auth).send({ secrets: [{ key: "T9", value: "v", tags: ["db"] }] });
    expect(await f.t.db.query(`SELECT 1 FROM tags WHERE name = 'db'`)).toHaveLength(1);
  });

  it("the tags filter matches ANY tag and never returns a secret twice", async () => {
    expect((await list({ tags: "aws" })).map((s) => s.key)).toEqual(["T1"]);
    expect((await list({ tags: "aws,postgres" })).map((s) => s.key)).toEqual(["T1", "T2"]);
    expect((await list({ tags: "db,aws,postgres" })).map((s) => s.key)).toEqual(["T1", "T2"]);
    expect((await list({ tags: "DB" })).map((s) => s.key)).toEqual([]);
    expect((await list({ tags: "nope" })).map((s) => s.key)).toEqual([]);
    expect((await list({ tags: "aws", key: "T2" })).map((s) => s.key)).toEqual([]);
  });

  it("PUT replaces the tag set when tags is sent, keeps it otherwise; [] clears", async () => {
    const [t1] = await list({ key: "T1" });
    let res = await put([{ id: t1!.id, value: "w" }]);
    expect(res.body[0].tags).toEqual(["aws", "db"]);
    res = await put([{ id: t1!.id, tags: ["new"] }]);
    expect(res.body[0].tags).toEqual(["new"]);
    expect((await list({ key: "T1" }))[0]!.tags).toEqual(["new"]);
    res = await put([{ id: t1!.id, tags: [] }]);
    expect(res.body[0].tags).toEqual([]);
    expect(await f.t.db.query(`SELECT 1 FROM secret_tags WHERE secret_id = $1`, [t1!.id])).toEqual([]);
  });
});

describe("types, sealed rules and versions", () => {
  beforeAll(wipe);

  it("type defaults to secret; sealed and config are kept", async () => {
    const res = await created([{ key: "S", value: "v" }, { key: "SEALED", value: "hidden", type: "sealed" }, { key: "CFG", value: "c", type: "config" }]);
    expect(res.map((s) => s.type)).toEqual(["secret", "sealed", "config"]);
  });

  it("a sealed secret cannot change type: 400, nothing changed", async () => {
    const [sealed] = await list({ key: "SEALED" });
    const res = await put([{ id: sealed!.id, type: "secret", value: "x" }]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Sealed secrets cannot be unsealed. Delete and recreate the secret instead." });
    const [row] = await f.t.db.query<{ type: string; version: number }>(`SELECT type::text, version FROM secrets WHERE id = $1`, [sealed!.id]);
    expect(row).toEqual({ type: "sealed", version: 1 });
  });

  it("a sealed secret keeps its value on PUT, other fields change, version goes up", async () => {
    const [sealed] = await list({ key: "SEALED" });
    const res = await put([{ id: sealed!.id, type: "sealed", value: "ignored", comment: "note" }]);
    expect(res.status).toBe(200);
    expect(res.body[0]).toMatchObject({ value: "hidden", comment: "note", type: "sealed", version: 2 });
    expect((await list({ key: "SEALED" }))[0]).toMatchObject({ value: "hidden", version: 2 });
  });

  it("other types can become sealed (the value sent with it still applies) and config <-> secret", async () => {
    const [cfg] = await list({ key: "CFG" });
    let res = await put([{ id: cfg!.id, type: "secret" }]);
    expect(res.body[0]).toMatchObject({ type: "secret", value: "c" });
    res = await put([{ id: cfg!.id, type: "sealed", value: "now sealed" }]);
    expect(res.body[0]).toMatchObject({ type: "sealed", value: "now sealed", version: 3 });
  });

  it("version goes up on every PUT, even one that changes nothing; unsent fields are kept", async () => {
    f.t.clock.set(Date.parse("2025-01-01T00:00:00.000Z"));
    const [s] = await list({ key: "S" });
    for (const expected of [2, 3]) {
      const res = await put([{ id: s!.id }]);
      expect(res.status).toBe(200);
      expect(res.body[0]).toMatchObject({ key: "S", value: "v", comment: "", version: expected, createdAt: s!.createdAt, updatedAt: "2025-01-01T00:00:00.000000Z" });
    }
  });

  it("PUT with a new key upper-cases and re-digests it; path moves create folders", async () => {
    const [s] = await list({ key: "S" });
    const res = await put([{ id: s!.id, key: "renamed", path: "moved/here/" }]);
    expect(res.status).toBe(200);
    expect(res.body[0]).toMatchObject({ key: "RENAMED", path: "/moved/here", version: 4 });
    expect(res.body[0].keyDigest).not.toBe(s!.keyDigest);
    const [folder] = await f.t.db.query<{ id: string }>(`SELECT id FROM folders WHERE path = '/moved/here'`);
    expect(res.body[0].folder).toBe(folder!.id);
    expect((await list({ key: "renamed" })).map((x) => x.id)).toEqual([s!.id]);
    expect(await list({ key: "S" })).toEqual([]);
  });
});

describe("duplicates: 409 Duplicate secret found, nothing written", () => {
  beforeAll(wipe);
  const count = async () => Number((await f.t.db.query<{ n: string }>(`SELECT count(*) AS n FROM secrets`))[0]!.n);

  it("an existing live key at the same path", async () => {
    await created([{ key: "DUP", value: "1", path: "/p" }]);
    const res = await post([{ key: "new_one", value: "x" }, { key: "dup", value: "2", path: "/p/" }]);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "Duplicate secret found" });
    expect(await count()).toBe(1);
  });

  it("the same key twice in one request (Phase misses this)", async () => {
    const res = await post([{ key: "twice", value: "1" }, { key: "TWICE", value: "2" }]);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "Duplicate secret found" });
    expect(await count()).toBe(1);
  });

  it("the same key at another path, or after a delete, is fine", async () => {
    const [other] = await created([{ key: "DUP", value: "x", path: "/q" }]);
    expect(other!.path).toBe("/q");
    const [p] = await list({ key: "DUP", path: "/p" });
    expect((await del([p!.id])).status).toBe(200);
    const [again] = await created([{ key: "DUP", value: "again", path: "/p" }]);
    expect(again!.value).toBe("again");
  });

  it("PUT renaming onto a live key checks the secret's real path when path is omitted", async () => {
    const [q] = await list({ key: "DUP", path: "/q" });
    const [elsewhere] = await created([{ key: "OTHER", value: "o", path: "/q" }]);
    let res = await put([{ id: elsewhere!.id, key: "dup" }]);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "Duplicate secret found" });
    const [row] = await f.t.db.query<{ version: number }>(`SELECT version FROM secrets WHERE id = $1`, [elsewhere!.id]);
    expect(row!.version).toBe(1);
    // Renaming a secret to its own key (any case) is no clash.
    res = await put([{ id: q!.id, key: "dup" }]);
    expect(res.status).toBe(200);
  });

  it("PUT making two secrets of the request collide", async () => {
    const [a, b] = await created([{ key: "A1", value: "1" }, { key: "B1", value: "2" }]);
    const res = await put([{ id: a!.id, key: "C1" }, { id: b!.id, key: "c1" }]);
    expect(res.status).toBe(409);
    expect((await list({ key: "A1" })).map((s) => s.version)).toEqual([1]);
  });

  it("two concurrent POSTs of one key: exactly one wins (the unique index backs the check)", async () => {
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => post([{ key: "RACE", value: String(i) }])));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body).toEqual({ error: "Duplicate secret found" });
    expect(await list({ key: "RACE" })).toHaveLength(1);
  });
});

describe("DELETE (notes 3.5)", () => {
  beforeAll(wipe);

  it("any unknown id: 404 listing them, nothing deleted", async () => {
    const [a, b] = await created([{ key: "D1", value: "1" }, { key: "D2", value: "2" }]);
    const [foreign] = (await f.t.http.post(f.url("Staging")).set("Authorization", f.owner.auth).send({ secrets: [{ key: "D9", value: "x" }] })).body;
    const res = await del([a!.id, "not-a-uuid", foreign.id, b!.id]);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `Secret(s) not found in this environment: not-a-uuid, ${foreign.id}` });
    expect(await f.t.db.query(`SELECT 1 FROM secrets WHERE deleted_at IS NOT NULL`)).toEqual([]);
  });

  it("soft-deletes all of them: Deleted N secrets / Deleted 1 secret", async () => {
    const [a, b] = await list();
    let res = await del([a!.id, b!.id, a!.id]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Deleted 2 secrets" });
    const rows = await f.t.db.query<{ deleted_at: Date | null }>(`SELECT deleted_at FROM secrets WHERE id = ANY($1::uuid[])`, [[a!.id, b!.id]]);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.deleted_at).toBeInstanceOf(Date);
    expect(await list()).toEqual([]);
    const [c] = await created([{ key: "D3", value: "3" }]);
    res = await del([c!.id]);
    expect(res.body).toEqual({ message: "Deleted 1 secret" });
  });

  it("a deleted secret is gone for DELETE and PUT", async () => {
    const [row] = await f.t.db.query<{ id: string }>(`SELECT id FROM secrets WHERE deleted_at IS NOT NULL LIMIT 1`);
    let res = await del([row!.id]);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `Secret(s) not found in this environment: ${row!.id}` });
    res = await put([{ id: row!.id, value: "zombie" }]);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `Secret not found: ${row!.id}` });
  });
});
