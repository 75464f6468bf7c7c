import sodium from "libsodium-wrappers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createdBy, listed, phaseFixture, secretsClient, wipeSecrets, type PhaseFixture } from "./fixtures.js";

const FIELDS = ["id", "key", "value", "comment", "tags", "override", "type", "lifecycle", "path", "keyDigest", "version", "createdAt", "updatedAt", "environment", "folder"];

let f: PhaseFixture;
let sa: ReturnType<typeof secretsClient>;
beforeAll(async () => {
  await sodium.ready;
  f = await phaseFixture();
  sa = secretsClient(f, f.sa.auth);
});
afterAll(async () => f?.close());

const post = (secrets: unknown[]) => sa.post(secrets);
const put = (secrets: unknown[]) => sa.put(secrets);
const del = (ids: string[]) => sa.del(ids);
const list = (extra: Record<string, string> = {}) => listed(sa, extra);
const created = (secrets: unknown[]) => createdBy(sa, secrets);
const wipe = () => wipeSecrets(f);

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
