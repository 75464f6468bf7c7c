import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestIdFor } from "../../src/http/request-id.js";
import { startTestServer, type TestServer } from "../support/server.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("request ids (X-Request-Id)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { LEASEHOLD_REAPER_SCHEDULE: "off" } });
  });
  afterAll(async () => t?.close());

  /** The request log lines (Fastify's "incoming request" / "request completed") of one request id. */
  const requestLines = (id: string) =>
    t.logs()
      .map((l) => JSON.parse(l) as { reqId?: string; msg: string; req?: { url: string } })
      .filter((l) => l.reqId === id);

  it("keeps a sane incoming id, echoes it, and logs the request's lines under it", async () => {
    const id = "trace-01.ABC_def-xyz";
    const res = await t.http.get("/v1/apps/").set("X-Request-Id", id).set("Authorization", `Bearer ${t.ownerToken}`);
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toBe(id);
    const lines = requestLines(id);
    expect(lines.map((l) => l.msg)).toEqual(["incoming request", "request completed"]);
    expect(lines[0]!.req?.url).toBe("/v1/apps/");
  });

  it("accepts exactly 128 characters of [A-Za-z0-9._-]", async () => {
    const id = "a".repeat(64) + "Z9._-".repeat(12) + "abcd";
    expect(id).toHaveLength(128);
    const res = await t.http.get("/").set("X-Request-Id", id);
    expect(res.headers["x-request-id"]).toBe(id);
  });

  it.each([
    ["too long", "a".repeat(129)],
    ["a slash", "abc/def"],
    ["a space", "abc def"],
    ["a quote", 'abc"def'],
    ["a colon", "abc:def"],
    ["JSON", '{"x":1}'],
  ])("replaces an id with %s by a fresh UUID", async (_what, id) => {
    const res = await t.http.get("/").set("X-Request-Id", id);
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toMatch(UUID);
    expect(requestLines(res.headers["x-request-id"] as string)).toHaveLength(2);
    expect(t.logs().some((l) => l.includes(id))).toBe(false);
  });

  it("generates a distinct UUID per request without the header, on errors too", async () => {
    const a = await t.http.get("/");
    const b = await t.http.get("/nope");
    expect(b.status).toBe(404);
    expect(a.headers["x-request-id"]).toMatch(UUID);
    expect(b.headers["x-request-id"]).toMatch(UUID);
    expect(a.headers["x-request-id"]).not.toBe(b.headers["x-request-id"]);
    const unauthorized = await t.http.get("/v1/apps/");
    expect(unauthorized.status).toBe(401);
    expect(requestLines(unauthorized.headers["x-request-id"] as string).map((l) => l.msg)).toEqual(["incoming request", "request completed"]);
  });

  it("requestIdFor takes the first of repeated headers", () => {
    expect(requestIdFor({ headers: { "x-request-id": ["first", "second"] } })).toBe("first");
    expect(requestIdFor({ headers: { "x-request-id": "" } })).toMatch(UUID);
    expect(requestIdFor({ headers: {} })).toMatch(UUID);
  });
});
