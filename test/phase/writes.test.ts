import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createdBy, listed, phaseFixture, secretsClient, wipeSecrets, type PhaseFixture } from "./fixtures.js";

let f: PhaseFixture;
let sa: ReturnType<typeof secretsClient>;
beforeAll(async () => {
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
