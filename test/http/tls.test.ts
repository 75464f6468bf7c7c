import http from "node:http";
import type http2 from "node:http2";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HSTS } from "../../src/http/tls.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { h1Request, h2Connect, h2Request, makeCertificate, type Certificate } from "./tls-support.js";

/** A raw TLS handshake with the given client settings: the negotiated protocol and cipher, or the error. */
function handshake(port: number, ca: Buffer, opts: tls.ConnectionOptions): Promise<{ protocol: string | null; cipher: string; alpn: string | false } | Error> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost", ...opts }, () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name, alpn: socket.alpnProtocol ?? false };
      socket.end();
      resolve(result);
    });
    socket.on("error", (e) => resolve(e));
  });
}

describe("HTTPS with TLS_CERT_FILE / TLS_KEY_FILE (HTTP/1.1 and HTTP/2)", () => {
  let t: TestServer;
  let cert: Certificate;
  let port: number;

  beforeAll(async () => {
    cert = makeCertificate();
    t = await startTestServer({
      env: { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile, RATE_LIMIT_DEFAULT: "5/minute", LEASEHOLD_REAPER_SCHEDULE: "off" },
    });
    port = Number(new URL(t.url).port);
  });
  afterAll(async () => {
    await t?.close();
    cert?.cleanup();
  });

  it("listens on https:// and answers HTTP/1.1 clients (ALPN http/1.1) with HSTS and a request id", async () => {
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await h1Request(t.url, cert.cert, { path: "/healthz" });
    expect(res.alpn).toBe("http/1.1");
    expect(res.httpVersion).toBe("1.1");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
    expect(res.headers["strict-transport-security"]).toBe(HSTS);
    expect(res.headers["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains");
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    // Errors carry it too.
    const missing = await h1Request(t.url, cert.cert, { path: "/nope" });
    expect(missing.status).toBe(404);
    expect(missing.headers["strict-transport-security"]).toBe(HSTS);
  });

  it("speaks HTTP/2 to clients offering h2: management and Phase routes, audit IP and user agent, rate limit", async () => {
    const session = await h2Connect(t.url, cert.cert);
    try {
      expect(session.alpnProtocol).toBe("h2");
      const owner = { authorization: `Bearer ${t.ownerToken}`, "user-agent": "h2-test-client/1.0" };
      const req = (headers: Record<string, string>, method: string, path: string, body?: unknown) =>
        h2Request(session, { method, path, headers, ...(body === undefined ? {} : { body }) });

      const alive = await req({}, "GET", "/");
      expect(alive.status).toBe(200);
      expect(alive.headers["strict-transport-security"]).toBe(HSTS);

      // Management over h2 (4 of the Owner's 5 requests a minute).
      const app = await req(owner, "POST", "/v1/apps/", { name: "over-h2", environments: ["Development"] });
      expect(app.status).toBe(201);
      const appId = (app.json() as { id: string }).id;
      const sa = await req(owner, "POST", "/v1/service-accounts/", { name: "h2-ci" });
      expect(sa.status).toBe(201);
      const saId = (sa.json() as { id: string }).id;
      expect((await req(owner, "POST", `/v1/service-accounts/${saId}/access/`, { app_id: appId, environments: ["Development"] })).status).toBe(200);
      const issued = await req(owner, "POST", `/v1/service-accounts/${saId}/tokens/`, { name: "ci" });
      expect(issued.status).toBe(201);
      const saAuth = { authorization: (issued.json() as { authorization: string }).authorization, "user-agent": "phase-over-h2/2.0" };

      // Phase's secrets API over h2.
      const url = `/v1/secrets/?app_id=${appId}&env=Development`;
      const created = await req(saAuth, "POST", url, { secrets: [{ key: "H2_KEY", value: "over-http2", comment: "c" }] });
      expect(created.status).toBe(200);
      const read = await req(saAuth, "GET", url);
      expect(read.status).toBe(200);
      expect((read.json() as { key: string; value: string }[]).map((s) => [s.key, s.value])).toEqual([["H2_KEY", "over-http2"]]);

      // The audit rows carry the h2 peer's address and user agent (src/http/request-meta.ts).
      await t.server.container.audit.flush();
      const rows = await t.db.query<{ event_type: string; ip_address: string; user_agent: string }>(
        `SELECT event_type, ip_address, user_agent FROM audit_events WHERE event_type LIKE 'secret.%' ORDER BY id`,
      );
      expect(rows).toEqual([
        { event_type: "secret.create", ip_address: "127.0.0.1", user_agent: "phase-over-h2/2.0" },
        { event_type: "secret.read", ip_address: "127.0.0.1", user_agent: "phase-over-h2/2.0" },
      ]);

      // Rate limit over h2: the service account's 3rd to 5th requests pass, the 6th is Phase's 429.
      for (let i = 0; i < 3; i++) expect((await req(saAuth, "GET", url)).status).toBe(200);
      const throttled = await req(saAuth, "GET", url);
      expect(throttled.status).toBe(429);
      expect(throttled.json()).toEqual({ error: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds?\.$/) });
      expect(Number(throttled.headers["retry-after"])).toBeGreaterThan(0);
      expect(throttled.headers["strict-transport-security"]).toBe(HSTS);
    } finally {
      session.close();
    }
  });

  it("refuses plain HTTP on the port", async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/healthz", agent: false }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      });
      req.on("error", (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
    });
    expect(outcome).toBe("error ECONNRESET");
  });

  it("refuses TLS 1.1 (a client able to speak it gets the server's protocol_version alert); accepts TLS 1.2 and 1.3", async () => {
    // SECLEVEL=0 lets this client's OpenSSL offer TLS 1.1 at all: the refusal must come from the server.
    const old = await handshake(port, cert.cert, { minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" });
    expect(old).toBeInstanceOf(Error);
    expect((old as Error).message).toMatch(/alert protocol version/);

    const v12 = await handshake(port, cert.cert, { minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ALPNProtocols: ["h2", "http/1.1"] });
    expect(v12).toEqual({ protocol: "TLSv1.2", cipher: "ECDHE-ECDSA-AES128-GCM-SHA256", alpn: "h2" });
    const v13 = await handshake(port, cert.cert, { ALPNProtocols: ["http/1.1"] });
    expect(v13).toEqual({ protocol: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", alpn: "http/1.1" });
  });

  it("refuses weak TLS 1.2 cipher suites (CBC, no forward secrecy) and honours its own order", async () => {
    for (const ciphers of ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-GCM-SHA256"]) {
      const r = await handshake(port, cert.cert, { maxVersion: "TLSv1.2", ciphers });
      expect(r, ciphers).toBeInstanceOf(Error);
      expect((r as Error).message, ciphers).toMatch(/handshake failure/);
    }
    // The client prefers AES-256 and ChaCha20; the server picks its own first choice.
    const r = await handshake(port, cert.cert, {
      maxVersion: "TLSv1.2",
      ciphers: "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
    });
    expect(r).toMatchObject({ protocol: "TLSv1.2", cipher: "ECDHE-ECDSA-AES128-GCM-SHA256" });
  });

  it("shutdown: an h2 stream under way finishes (200), idle sessions get GOAWAY, close() resolves", async () => {
    const cert2 = makeCertificate("second");
    const s = await startTestServer({ env: { TLS_CERT_FILE: cert2.certFile, TLS_KEY_FILE: cert2.keyFile, LEASEHOLD_REAPER_SCHEDULE: "off" } });
    let busy: http2.ClientHttp2Session | undefined;
    let idle: http2.ClientHttp2Session | undefined;
    try {
      [busy, idle] = [await h2Connect(s.url, cert2.cert), await h2Connect(s.url, cert2.cert)];
      expect((await h2Request(idle, { path: "/healthz" })).status).toBe(200);
      // A POST whose body is still coming when the server is told to stop.
      const stream = busy.request({ ":method": "POST", ":path": "/v1/apps/", "content-type": "application/json", authorization: `Bearer ${s.ownerToken}` });
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        let status = 0;
        let body = "";
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.setEncoding("utf8");
        stream.on("data", (d: string) => (body += d));
        stream.on("end", () => resolve({ status, body }));
        stream.on("error", reject);
      });
      stream.write('{"name": "finished-during-');
      // Frames are handled in order on one connection: once this answer is back, the POST has started.
      expect((await h2Request(busy, { path: "/healthz" })).status).toBe(200);
      const idleClosed = new Promise<void>((resolve) => idle!.once("close", () => resolve()));
      const closing = s.close();
      await idleClosed; // GOAWAY ended the idle session
      stream.end('shutdown"}');
      const done = await answer;
      expect(done.status).toBe(201);
      expect(JSON.parse(done.body)).toMatchObject({ name: "finished-during-shutdown" });
      await closing;
    } finally {
      busy?.destroy();
      idle?.destroy();
      await s.close();
      cert2.cleanup();
    }
  });
});
