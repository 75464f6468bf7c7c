import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import http2 from "node:http2";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";

export interface Certificate {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The certificate (PEM): clients trust it as their only CA. */
  cert: Buffer;
  cleanup(): void;
}

const OPENSSL = "/usr/bin/openssl";

/** A fresh self-signed certificate for localhost / 127.0.0.1, made with the openssl CLI in a temp dir. */
export function makeCertificate(name = "server", dir = mkdtempSync(join(tmpdir(), "leasehold-tls-"))): Certificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync(OPENSSL, [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ], { stdio: "ignore" });
  return { dir, certFile, keyFile, cert: readFileSync(certFile), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): unknown;
}

export interface H1Response extends Response {
  httpVersion: string;
  /** The ALPN protocol the TLS handshake settled on. */
  alpn: string | false | null;
}

/** One request with node:https (HTTP/1.1, offering only http/1.1 by ALPN). */
export function h1Request(
  url: string,
  ca: Buffer,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: unknown },
): Promise<H1Response> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(opts.path, url),
      {
        method: opts.method ?? "GET",
        ca,
        ...({ ALPNProtocols: ["http/1.1"] } as https.RequestOptions), // passed on to tls.connect
        agent: false,
        headers: { ...(body ? { "content-type": "application/json" } : {}), ...opts.headers },
      },
      (res) => {
        const alpn = (res.socket as TLSSocket).alpnProtocol;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, httpVersion: res.httpVersion, alpn, text, json: () => JSON.parse(text) }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** One request on an HTTP/2 session. */
export function h2Request(
  session: http2.ClientHttp2Session,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: unknown },
): Promise<Response> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": opts.method ?? "GET",
      ":path": opts.path,
      ...(body ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    });
    let headers: IncomingHttpHeaders = {};
    let status = 0;
    let text = "";
    stream.setEncoding("utf8");
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      headers = h as IncomingHttpHeaders;
    });
    stream.on("data", (d: string) => (text += d));
    stream.on("end", () => resolve({ status, headers, text, json: () => JSON.parse(text) }));
    stream.on("error", reject);
    stream.end(body);
  });
}

/** An HTTP/2 session over TLS trusting `ca`; resolves once connected (ALPN settled). */
export function h2Connect(url: string, ca: Buffer): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, { ca });
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}
