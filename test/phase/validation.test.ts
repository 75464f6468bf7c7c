import { request as httpRequest } from "node:http";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { phaseFixture, type PhaseFixture } from "./fixtures.js";

let f: PhaseFixture;
beforeAll(async () => {
  f = await phaseFixture();
});
afterAll(async () => f?.close());

const TYPE_ERROR = (repr: string) => `Invalid 'type': ${repr}. Must be one of ['config', 'sealed', 'secret'].`;
const secretCount = async () => Number((await f.t.db.query<{ n: string }>(`SELECT count(*) AS n FROM secrets`))[0]!.n);
const tagCount = async () => Number((await f.t.db.query<{ n: string }>(`SELECT count(*) AS n FROM tags`))[0]!.n);

type Method = "post" | "put" | "delete";
const send = (method: Method, body: unknown) => f.t.http[method](f.url()).set("Authorization", f.sa.auth).send(body as object);
const sendRaw = (method: Method, body: string, type = "application/json") =>
  f.t.http[method](f.url()).set("Authorization", f.sa.auth).set("Content-Type", type).send(body);

/** A request with a body and no Content-Type at all (superagent always adds one). */
function rawNoContentType(method: string, path: string, body: string): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, f.t.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { Authorization: f.sa.auth, "Content-Length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function expect400(res: { status: number; body: unknown }, error: string) {
  expect(res.body).toEqual({ error });
  expect(res.status).toBe(400);
}

describe("body parsing (notes 3.3 step 2), every write method", () => {
  beforeEach(async () => expect(await secretCount()).toBe(0));

  it.each(["post", "put", "delete"] as const)("%s: empty body: Request body is required.", async (m) => {
    await expect400(await sendRaw(m, ""), "Request body is required.");
    await expect400(await f.t.http[m](f.url()).set("Authorization", f.sa.auth), "Request body is required.");
  });

  it.each(["post", "put", "delete"] as const)("%s: bad JSON: Request body must be valid JSON.", async (m) => {
    await expect400(await sendRaw(m, "{not json"), "Request body must be valid JSON.");
    await expect400(await sendRaw(m, "   "), "Request body must be valid JSON.");
  });

  it.each(["post", "put", "delete"] as const)("%s: not an object: Request body must be a JSON object.", async (m) => {
    for (const body of ["[]", '"text"', "1", "null", "true"]) {
      await expect400(await sendRaw(m, body), "Request body must be a JSON object.");
    }
  });

  it("any Content-Type is read as JSON, as Phase does", async () => {
    const res = await sendRaw("post", JSON.stringify({ secrets: [{ key: "PLAIN", value: "v" }] }), "text/plain");
    expect(res.status).toBe(200);
    const del = await sendRaw("delete", JSON.stringify({ secrets: [res.body[0].id] }), "application/x-www-form-urlencoded");
    expect(del.body).toEqual({ message: "Deleted 1 secret" });
    await f.t.db.query(`DELETE FROM secrets`);
  });

  it("a body without any Content-Type header is read too (POST and DELETE)", async () => {
    const created = await rawNoContentType("POST", f.url(), JSON.stringify({ secrets: [{ key: "NOTYPE", value: "v" }] }));
    expect(created.status).toBe(200);
    const id = (created.body as { id: string }[])[0]!.id;
    const deleted = await rawNoContentType("DELETE", f.url(), JSON.stringify({ secrets: [id] }));
    expect(deleted).toEqual({ status: 200, body: { message: "Deleted 1 secret" } });
    await f.t.db.query(`DELETE FROM secrets`);
  });
});

describe("POST entries (notes 3.3 steps 3-4), nothing written on failure", () => {
  afterAll(async () => f.t.db.query(`DELETE FROM secrets`));

  it.each([
    [{}, "'secrets' must be a non-empty list."],
    [{ secrets: [] }, "'secrets' must be a non-empty list."],
    [{ secrets: {} }, "'secrets' must be a non-empty list."],
    [{ secrets: "KEY" }, "'secrets' must be a non-empty list."],
    [{ secrets: [1] }, "Each entry in 'secrets' must be an object."],
    [{ secrets: [["KEY", "v"]] }, "Each entry in 'secrets' must be an object."],
    [{ secrets: [null] }, "Each entry in 'secrets' must be an object."],
    [{ secrets: [{ value: "v" }] }, "Each secret requires a non-empty 'key'."],
    [{ secrets: [{ key: "", value: "v" }] }, "Each secret requires a non-empty 'key'."],
    [{ secrets: [{ key: "   ", value: "v" }] }, "Each secret requires a non-empty 'key'."],
    [{ secrets: [{ key: 5, value: "v" }] }, "Each secret requires a non-empty 'key'."],
    [{ secrets: [{ key: "K" }] }, "Each secret requires a 'value' string."],
    [{ secrets: [{ key: "K", value: 5 }] }, "Each secret requires a 'value' string."],
    [{ secrets: [{ key: "K", value: null }] }, "Each secret requires a 'value' string."],
    [{ secrets: [{ key: "", value: 5 }] }, "Each secret requires a non-empty 'key'."],
    [{ secrets: [{ key: "K", value: "v", type: "x" }] }, TYPE_ERROR("'x'")],
    [{ secrets: [{ key: "K", value: "v", type: "Secret" }] }, TYPE_ERROR("'Secret'")],
    [{ secrets: [{ key: "K", value: "v", type: 5 }] }, TYPE_ERROR("5")],
    [{ secrets: [{ key: "K", value: "v", type: "it's" }] }, TYPE_ERROR(`"it's"`)],
    [{ secrets: [{ key: "K", value: "v", type: false }] }, TYPE_ERROR("False")],
    [{ secrets: [{ key: "K", value: "v", override: "x" }] }, "'override' must be a JSON object."],
    [{ secrets: [{ key: "K", value: "v", override: ["x"] }] }, "'override' must be a JSON object."],
    [{ secrets: [{ key: "K", value: "v", override: {} }] }, "'override.value' must be a string."],
    [{ secrets: [{ key: "K", value: "v", override: { value: 1, isActive: true } }] }, "'override.value' must be a string."],
    [{ secrets: [{ key: "K", value: "v", override: { value: "o", isActive: "yes" } }] }, "'override.isActive' must be a boolean."],
    [{ secrets: [{ key: "K", value: "v", type: "x", override: "x" }] }, TYPE_ERROR("'x'")],
    [{ secrets: [{ key: "K", value: "v", comment: 5 }] }, "'comment' must be a string."],
    [{ secrets: [{ key: "OK", value: "v" }, { key: "BAD" }] }, "Each secret requires a 'value' string."],
  ])("%j → %s", async (body, error) => {
    await expect400(await send("post", body), error);
    expect(await secretCount()).toBe(0);
  });

  it("Tag name exceeds 64 characters: the first 32 in Python repr, then …", async () => {
    const long = "t".repeat(65);
    await expect400(await send("post", { secrets: [{ key: "K", value: "v", tags: [long] }] }), `Tag name exceeds 64 characters: '${"t".repeat(32)}'…`);
    const quoted = `it's ${"x".repeat(70)}`;
    await expect400(
      await send("post", { secrets: [{ key: "K", value: "v", tags: [quoted] }] }),
      `Tag name exceeds 64 characters: "${quoted.slice(0, 32)}"…`,
    );
    expect(await secretCount()).toBe(0);
    expect(await tagCount()).toBe(0);
  });

  it("64 characters (after stripping) is fine; blanks and non-strings are dropped", async () => {
    const name = "n".repeat(64);
    const res = await send("post", { secrets: [{ key: "K64", value: "v", tags: [`  ${name}  `, "", "   ", 7, null] }] });
    expect(res.status).toBe(200);
    expect(res.body[0].tags).toEqual([name]);
  });

  it("ignored fields: a client id, null optionals", async () => {
    const id = randomUUID();
    const res = await send("post", { secrets: [{ id, key: "IGNORED", value: "v", type: null, override: null, comment: null, keyDigest: "x", version: 9 }] });
    expect(res.status).toBe(200);
    expect(res.body[0].id).not.toBe(id);
    expect(res.body[0]).toMatchObject({ type: "secret", override: null, comment: "", version: 1 });
  });
});

describe("PUT entries (notes 3.4)", () => {
  it.each([
    [{}, "'secrets' must be a non-empty list."],
    [{ secrets: [] }, "'secrets' must be a non-empty list."],
    [{ secrets: [{ value: "v" }] }, "Secret ID not provided"],
    [{ secrets: [{ id: "", value: "v" }] }, "Secret ID not provided"],
    [{ secrets: [{ id: null, value: "v" }] }, "Secret ID not provided"],
    [{ secrets: ["id"] }, "Secret ID not provided"],
    [{ secrets: [{ id: "x", type: "x" }] }, TYPE_ERROR("'x'")],
    [{ secrets: [{ id: "x", override: 1 }] }, "'override' must be a JSON object."],
    [{ secrets: [{ id: "x", override: { value: "o", isActive: 1 } }] }, "'override.isActive' must be a boolean."],
    [{ secrets: [{ id: "x", key: "" }] }, "Each secret requires a non-empty 'key'."],
    [{ secrets: [{ id: "x", value: 1 }] }, "Each secret requires a 'value' string."],
  ])("%j → %s", async (body, error) => {
    await expect400(await send("put", body), error);
  });

  it("unknown id (UUID or not): 404 Secret not found: {id}", async () => {
    const id = randomUUID();
    let res = await send("put", { secrets: [{ id, value: "v" }] });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `Secret not found: ${id}` });
    res = await send("put", { secrets: [{ id: "abc", value: "v" }] });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Secret not found: abc" });
  });
});

describe("DELETE body (notes 3.5)", () => {
  it.each([
    [{}, "'secrets' must be a non-empty list of secret IDs."],
    [{ secrets: [] }, "'secrets' must be a non-empty list of secret IDs."],
    [{ secrets: "id" }, "'secrets' must be a non-empty list of secret IDs."],
    [{ secrets: [1] }, "'secrets' must be a non-empty list of secret IDs."],
  ])("%j → %s", async (body, error) => {
    await expect400(await send("delete", body), error);
  });
});

describe("GET query", () => {
  it("Content-Type: application/json without a body (Terraform) is fine", async () => {
    const res = await f.t.http.get(f.url()).set("Authorization", f.sa.auth).set("Content-Type", "application/json");
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
  });

  // Phase reads lease_ttl only when dynamic secrets are included, with or without `lease`.
  it.each([
    [{ dynamic: "true", lease: "true", lease_ttl: "abc" }],
    [{ include_dynamic: "", lease_ttl: "1.5" }],
    [{ dynamic: "true", lease: "1", leaseTtl: "soon" }],
  ])("%j: 400 lease_ttl must be a valid integer (seconds)", async (extra) => {
    const res = await f.t.http.get(f.url("Development", extra)).set("Authorization", f.sa.auth);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "lease_ttl must be a valid integer (seconds)" });
  });

  it.each([
    [{ lease_ttl: "abc" }],
    [{ lease: "false", lease_ttl: "abc" }],
    [{ lease: "true", lease_ttl: "abc" }],
    [{ dynamic: "false", lease: "true", lease_ttl: "abc" }],
    [{ dynamic: "true", lease: "true", lease_ttl: "3600" }],
    [{ includeDynamic: "true" }],
  ])(
    "%j is accepted (dynamic secrets are not there yet)",
    async (extra) => {
      const res = await f.t.http.get(f.url("Development", extra)).set("Authorization", f.sa.auth);
      expect(res.status).toBe(200);
    },
  );
});
