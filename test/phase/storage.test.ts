import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phaseFixture, type PhaseFixture } from "./fixtures.js";
import { AUDIT_EVENTS_WITH_LISTS } from "../support/audit-sql.js";

let f: PhaseFixture;
beforeAll(async () => {
  f = await phaseFixture();
});
afterAll(async () => f?.close());

const post = (secrets: unknown[], auth = f.user.auth) => f.t.http.post(f.url()).set("Authorization", auth).send({ secrets });
const put = (secrets: unknown[]) => f.t.http.put(f.url()).set("Authorization", f.user.auth).send({ secrets });
const count = async (table: string) => Number((await f.t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
/** Every row of a table as text (bytea as hex), to grep for plaintext. */
const dump = async (table: string) => (await f.t.db.query<{ t: string }>(`SELECT t::text AS t FROM ${table} t`)).map((r) => r.t).join("\n");
const hex = (s: string) => Buffer.from(s).toString("hex");

describe("encryption at rest", () => {
  const plain = { key: "CANARY_KEY_7731", value: "canary-value-b9f2e", comment: "canary-comment-41aa", override: "canary-override-5c3d" };
  let a: { id: string };
  let b: { id: string };

  beforeAll(async () => {
    const res = await post([
      { key: plain.key, value: plain.value, comment: plain.comment, override: { value: plain.override, isActive: true } },
      { key: "SECOND", value: "second-value" },
    ]);
    expect(res.status).toBe(200);
    [a, b] = res.body;
  });

  it("the database never holds key, value, comment or override in clear", async () => {
    const everything = (await dump("secrets")) + (await dump("personal_secrets")) + (await dump("audit_events"));
    for (const s of Object.values(plain)) {
      expect(everything).not.toContain(s);
      expect(everything).not.toContain(hex(s));
    }
    const [row] = await f.t.db.query<{ value_cipher: Buffer }>(`SELECT value_cipher FROM secrets WHERE id = $1`, [a.id]);
    expect(row!.value_cipher[0]).toBe(0x01); // version byte, then a 24-byte nonce, then ciphertext + tag
    expect(row!.value_cipher.length).toBe(1 + 24 + plain.value.length + 16);
  });

  it("a ciphertext copied from another row fails: 500 without details, no plaintext in the logs", async () => {
    const [orig] = await f.t.db.query<{ value_cipher: Buffer }>(`SELECT value_cipher FROM secrets WHERE id = $1`, [b.id]);
    await f.t.db.query(`UPDATE secrets SET value_cipher = (SELECT value_cipher FROM secrets WHERE id = $1) WHERE id = $2`, [a.id, b.id]);
    const logsBefore = f.t.logs().length;
    const res = await f.t.http.get(f.url()).set("Authorization", f.user.auth);
    expect(res.status).toBe(500);
    expect(res.text).toBe(JSON.stringify({ error: "Internal server error." }));
    const logs = f.t.logs().slice(logsBefore).join("\n");
    expect(logs).toContain("Could not decrypt");
    for (const s of [...Object.values(plain), "second-value", f.user.token]) expect(logs).not.toContain(s);
    await f.t.db.query(`UPDATE secrets SET value_cipher = $1 WHERE id = $2`, [orig!.value_cipher, b.id]);
    expect((await f.t.http.get(f.url()).set("Authorization", f.user.auth)).status).toBe(200);
  });

  it("a ciphertext moved to another field of the same row fails too", async () => {
    await f.t.db.query(`UPDATE secrets SET comment_cipher = value_cipher WHERE id = $1`, [b.id]);
    const res = await f.t.http.get(f.url()).set("Authorization", f.user.auth);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: "Internal server error." });
    await f.t.db.query(`DELETE FROM secrets WHERE id = $1`, [b.id]);
  });

  it("one tampered byte fails (value, key and override)", async () => {
    for (const [table, column, id] of [
      ["secrets", "value_cipher", a.id],
      ["secrets", "key_cipher", a.id],
      ["personal_secrets", "value_cipher", null],
    ] as const) {
      const where = id ? `id = '${id}'` : "true";
      const [row] = await f.t.db.query<{ c: Buffer }>(`SELECT ${column} AS c FROM ${table} WHERE ${where}`);
      const tampered = Buffer.from(row!.c);
      tampered[tampered.length - 1]! ^= 0x01;
      await f.t.db.query(`UPDATE ${table} SET ${column} = $1 WHERE ${where}`, [tampered]);
      const res = await f.t.http.get(f.url()).set("Authorization", f.user.auth);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: "Internal server error." });
      await f.t.db.query(`UPDATE ${table} SET ${column} = $1 WHERE ${where}`, [row!.c]);
      expect((await f.t.http.get(f.url()).set("Authorization", f.user.auth)).status).toBe(200);
    }
  });
});

describe("one transaction per request", () => {
  beforeAll(async () => {
    await f.t.db.query(`TRUNCATE secrets, folders, tags, personal_secrets CASCADE`);
  });

  it("POST: a tag error in the 2nd entry leaves nothing of the 1st (secret, folder, tags, override)", async () => {
    const res = await post([
      { key: "FIRST", value: "v", path: "/new/folder", tags: ["fresh-tag"], override: { value: "o", isActive: true } },
      { key: "SECOND", value: "v", tags: ["ok", "x".repeat(65)] },
    ]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: `Tag name exceeds 64 characters: '${"x".repeat(32)}'…` });
    for (const table of ["secrets", "folders", "tags", "secret_tags", "personal_secrets"]) expect(await count(table)).toBe(0);
  });

  it("PUT: a failing later entry leaves the earlier ones unchanged", async () => {
    const [s] = (await post([{ key: "KEEP", value: "original", tags: ["t1"] }])).body;
    for (const bad of [{ id: s.id, tags: ["y".repeat(65)] }, { id: "00000000-0000-4000-8000-000000000000", value: "x" }]) {
      const res = await put([{ id: s.id, value: "changed", path: "/moved", tags: ["t2"], override: { value: "o", isActive: true } }, bad]);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    const [row] = await f.t.db.query<{ version: number; path: string }>(`SELECT version, path FROM secrets WHERE id = $1`, [s.id]);
    expect(row).toEqual({ version: 1, path: "/" });
    expect(await count("personal_secrets")).toBe(0);
    expect(await count("folders")).toBe(0);
    expect((await f.t.db.query<{ name: string }>(`SELECT name FROM tags`)).map((r) => r.name)).toEqual(["t1"]);
    const got = await f.t.http.get(f.url()).set("Authorization", f.user.auth);
    expect(got.body[0]).toMatchObject({ value: "original", tags: ["t1"], version: 1 });
  });
});

describe("audit trail", () => {
  beforeAll(async () => {
    await f.t.server.container.audit.flush();
    await f.t.db.query(`TRUNCATE secrets, folders, tags, personal_secrets, audit_events CASCADE`);
  });
  const events = async () => {
    await f.t.server.container.audit.flush();
    return f.t.db.query<Record<string, unknown>>(
      `SELECT event_type, account_type, user_id, service_account_id, token_id, ip_address, user_agent, app_id, environment_id, secret_id, path, key_digest, version, metadata,
              secret_ids, key_digests, versions, paths
         FROM ${AUDIT_EVENTS_WITH_LISTS} ORDER BY id`,
    );
  };

  it("create, update and delete events per secret, one read event listing every returned secret, without values", async () => {
    const ua = "terraform-provider-phase/0.2.0 (linux amd64; ci@host)";
    const created = await f.t.http.post(f.url()).set("Authorization", f.sa.auth).set("User-Agent", ua)
      .send({ secrets: [{ key: "AUD1", value: "audit-secret-value-1", path: "/p" }, { key: "AUD2", value: "audit-secret-value-2" }] });
    expect(created.status).toBe(200);
    const [s1, s2] = created.body;
    const read = await f.t.http.get(f.url()).set("Authorization", f.sa.auth).set("User-Agent", ua);
    expect(read.body.map((s: { id: string }) => s.id)).toEqual([s2.id, s1.id]);
    await f.t.http.put(f.url()).set("Authorization", f.sa.auth).set("User-Agent", ua).send({ secrets: [{ id: s1.id, value: "audit-secret-value-3" }] });
    await f.t.http.delete(f.url()).set("Authorization", f.sa.auth).set("User-Agent", ua).send({ secrets: [s2.id] });
    const rows = await events();
    expect(rows.map((r) => [r["event_type"], r["secret_id"], r["version"]])).toEqual([
      ["secret.create", s1.id, 1],
      ["secret.create", s2.id, 1],
      ["secret.read", null, null],
      ["secret.update", s1.id, 2],
      ["secret.delete", s2.id, 1],
    ]);
    expect(rows[2]).toMatchObject({
      path: null,
      key_digest: null,
      secret_ids: [s2.id, s1.id],
      key_digests: [s2.keyDigest, s1.keyDigest],
      versions: [1, 1],
      paths: ["/", "/p"],
      metadata: null,
    });
    for (const i of [0, 1, 3, 4]) expect(rows[i]).toMatchObject({ secret_ids: null, key_digests: null, versions: null, paths: null });
    const [tokenRow] = await f.t.db.query<{ id: string }>(`SELECT id FROM api_tokens WHERE service_account_id = $1`, [f.sa.id]);
    for (const r of rows) {
      expect(r).toMatchObject({
        account_type: "service_account",
        user_id: null,
        service_account_id: f.sa.id,
        token_id: tokenRow!.id,
        ip_address: expect.stringMatching(/127\.0\.0\.1/),
        user_agent: ua,
        app_id: f.appId,
        environment_id: f.envs["Development"],
      });
    }
    expect(rows[0]).toMatchObject({ path: "/p", key_digest: s1.keyDigest, metadata: { type: "secret" } });
    expect(rows[3]).toMatchObject({ path: "/p", key_digest: s1.keyDigest, metadata: { type: "secret", changed: ["value"] } });
    expect(JSON.stringify(rows)).not.toMatch(/audit-secret-value|AUD1|AUD2/);
  });

  it("failed requests record nothing; users are recorded as users", async () => {
    await f.t.server.container.audit.flush();
    await f.t.db.query(`TRUNCATE audit_events`);
    await f.t.http.post(f.url()).set("Authorization", f.sa.auth).send({ secrets: [{ key: "AUD1", value: "dup", path: "/p" }] });
    await f.t.http.delete(f.url()).set("Authorization", f.sa.auth).send({ secrets: ["00000000-0000-4000-8000-000000000000"] });
    expect(await events()).toEqual([]);
    await f.t.http.get(f.url()).set("Authorization", f.user.auth);
    const rows = await events();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_type: "secret.read", account_type: "user", user_id: f.user.id, service_account_id: null, user_agent: expect.any(String) });
  });
});
