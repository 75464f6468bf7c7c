import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/paths.js";
import { startTestServer, type TestServer } from "../support/server.js";

// The image's HEALTHCHECK against a real Leasehold server: the probe's path is one the server
// really answers, unauthenticated, with 200.
const PROBE = join(PROJECT_ROOT, "deploy", "healthcheck.cjs");
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

it("deploy/healthcheck.cjs passes against a running server and fails once it is gone", async () => {
  const port = new URL(t.url).port;
  const run = () =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [PROBE], { env: { PATH: process.env["PATH"] ?? "", HOST: "0.0.0.0", PORT: port } }, (err, stdout) =>
        resolve({ code: err ? Number(err.code ?? -1) : 0, stdout }),
      );
    });
  expect(await run()).toEqual({ code: 0, stdout: "GET /healthz: 200\n" });
  await t.close();
  const down = await run();
  expect(down.code).toBe(1);
  expect(down.stdout).toMatch(/^GET \/healthz failed: connect ECONNREFUSED/);
});
