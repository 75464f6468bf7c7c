import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Http2SecureServer, ServerHttp2Session } from "node:http2";
import { createSecureContext } from "node:tls";
import { ConfigError, type Config } from "../config.js";
import type { App } from "./types.js";

/**
 * TLS 1.2 suites with forward secrecy and AEAD only (Mozilla's "intermediate" list, without DHE,
 * which needs custom parameters), then the TLS 1.3 suites. All are allowed by HTTP/2 (RFC 7540 9.2).
 */
export const TLS_CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/** Two years, subdomains included: sent on every HTTPS response. */
export const HSTS = "max-age=63072000; includeSubDomains";

function read(variable: "TLS_CERT_FILE" | "TLS_KEY_FILE", path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new ConfigError([`${variable}: cannot read ${path} (${code})`]);
  }
}

/**
 * Fastify server options for HTTPS with TLS_CERT_FILE/TLS_KEY_FILE: HTTP/2 where the client offers
 * it by ALPN, HTTP/1.1 otherwise, TLS 1.2 at least. Unset: undefined (plain HTTP). Unreadable files,
 * files that are not PEM, or a key that does not belong to the certificate are configuration errors
 * (the process exits 78 with a message naming the variable), found before anything else starts.
 */
export function tlsServerOptions(config: Pick<Config, "TLS_CERT_FILE" | "TLS_KEY_FILE">): Record<string, unknown> | undefined {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return undefined;
  const cert = read("TLS_CERT_FILE", config.TLS_CERT_FILE);
  const key = read("TLS_KEY_FILE", config.TLS_KEY_FILE);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert); // the first certificate of the chain
  } catch {
    throw new ConfigError([`TLS_CERT_FILE: ${config.TLS_CERT_FILE} is not a PEM certificate`]);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError([`TLS_KEY_FILE: ${config.TLS_KEY_FILE} is not an unencrypted PEM private key`]);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new ConfigError([`TLS_KEY_FILE: the key in ${config.TLS_KEY_FILE} does not match the certificate in ${config.TLS_CERT_FILE}`]);
  }
  const https = { allowHTTP1: true, cert, key, minVersion: "TLSv1.2", ciphers: TLS_CIPHERS, honorCipherOrder: true } as const;
  try {
    createSecureContext(https); // what the server will do: fail here, with the variables named
  } catch (e) {
    throw new ConfigError([`TLS_CERT_FILE/TLS_KEY_FILE: OpenSSL refused them (${(e as Error).message})`]);
  }
  return { http2: true, https };
}

/**
 * For the HTTPS server of tlsServerOptions: Strict-Transport-Security on every response, and a
 * graceful end of HTTP/2 sessions on close. Node before 24 leaves open sessions alone when the
 * server closes (Fastify only closes them with forceCloseConnections, which would also cut
 * in-flight HTTP/1.1 requests), so one idle h2 client would hold shutdown for its whole idle
 * timeout. session.close() sends GOAWAY: streams under way finish, no new ones start.
 */
export function registerTlsHooks(app: App): void {
  app.addHook("onRequest", (_req, reply, done) => {
    reply.header("strict-transport-security", HSTS);
    done();
  });
  const sessions = new Set<ServerHttp2Session>();
  (app.server as unknown as Http2SecureServer).on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  app.addHook("preClose", (done) => {
    for (const session of sessions) session.close();
    done();
  });
}
