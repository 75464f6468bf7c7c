import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

describe("root and routing", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  it.each(["/", "/public/", "/service/", "/service/public/"])("GET %s says the API is alive", async (path) => {
    const res = await t.http.get(path);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      message: "API is alive. Please see https://docs.phase.dev/public-api for documentation on available endpoints.",
      status: "ok",
    });
  });

  it("unknown routes get a JSON 404", async () => {
    const res = await t.http.get("/nope");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Not found" });
  });
});
