import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../src/paths.js";

// The image's HEALTHCHECK (deploy/healthcheck.cjs) against real listeners: the status /healthz
// answers decides the exit code; with TLS_CERT_FILE set it speaks HTTPS and accepts the
// server's own (here self-signed) certificate on the loopback.
const PROBE = join(PROJECT_ROOT, "deploy", "healthcheck.cjs");

interface Probe {
  code: number;
  stdout: string;
}

function probe(env: Record<string, string>): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROBE], { env: { PATH: process.env["PATH"] ?? "", ...env } }, (err, stdout) => {
      resolve({ code: err ? Number(err.code ?? -1) : 0, stdout });
    });
  });
}

const seen: string[] = [];
function handler(status: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(req.url === "/healthz" ? status : 404, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: status === 200 ? "ok" : "failing" }));
  };
}

let server: Server | undefined;
const listen = (s: Server) =>
  new Promise<number>((resolve) => {
    server = s;
    s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port));
  });

let tls: { dir: string; cert: string; key: string };
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "lh-healthcheck-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=leasehold.example", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdio: "ignore" });
  tls = { dir, cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
});
afterAll(() => rmSync(tls.dir, { recursive: true, force: true }));
afterEach(async () => {
  seen.length = 0;
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

describe("deploy/healthcheck.cjs", () => {
  it("exits 0 when GET /healthz answers 200, probing 127.0.0.1 when HOST is a wildcard", async () => {
    const port = await listen(createHttp(handler(200)));
    expect(await probe({ HOST: "0.0.0.0", PORT: String(port) })).toEqual({ code: 0, stdout: "GET /healthz: 200\n" });
    expect(seen).toEqual(["GET /healthz"]);
  });

  it("exits 1 when /healthz answers anything else", async () => {
    const port = await listen(createHttp(handler(503)));
    expect(await probe({ HOST: "127.0.0.1", PORT: String(port) })).toEqual({ code: 1, stdout: "GET /healthz: 503\n" });
  });

  it("exits 1 when nothing listens", async () => {
    const port = await listen(createHttp(handler(200)));
    await new Promise((r) => server!.close(r));
    server = undefined;
    const result = await probe({ PORT: String(port) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^GET \/healthz failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/);
  });

  it("speaks HTTPS when TLS_CERT_FILE is set, accepting the server's certificate on the loopback", async () => {
    const port = await listen(createHttps({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler(200)));
    const env = { HOST: "0.0.0.0", PORT: String(port), TLS_CERT_FILE: tls.cert, TLS_KEY_FILE: tls.key };
    expect(await probe(env)).toEqual({ code: 0, stdout: "GET /healthz: 200\n" });
    expect(seen).toEqual(["GET /healthz"]);
    // Without TLS_CERT_FILE it speaks plain HTTP, which the HTTPS listener cannot answer.
    expect((await probe({ PORT: String(port) })).code).toBe(1);
  });
});
