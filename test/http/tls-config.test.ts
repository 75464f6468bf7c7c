import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { TLS_CIPHERS, tlsServerOptions } from "../../src/http/tls.js";
import { runCli } from "../cli/cli.js";
import { testMasterKey } from "../support/server.js";
import { makeCertificate, type Certificate } from "./tls-support.js";

function configError(files: { TLS_CERT_FILE: string; TLS_KEY_FILE: string }): string[] {
  try {
    tlsServerOptions(files);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("TLS certificate and key checks at start-up", () => {
  let a: Certificate;
  let b: Certificate;
  let garbage: string;
  let encryptedKey: string;

  beforeAll(() => {
    a = makeCertificate("a");
    b = makeCertificate("b", a.dir);
    garbage = join(a.dir, "garbage.pem");
    writeFileSync(garbage, "not a pem file\n");
    encryptedKey = join(a.dir, "encrypted.key");
    execFileSync("/usr/bin/openssl", ["pkey", "-in", a.keyFile, "-aes256", "-passout", "pass:secret-pass", "-out", encryptedKey]);
  });
  afterAll(() => a?.cleanup());

  it("a matching pair gives HTTP/2 with HTTP/1.1 fallback, TLS 1.2+, our cipher list in our order", () => {
    const opts = tlsServerOptions({ TLS_CERT_FILE: a.certFile, TLS_KEY_FILE: a.keyFile });
    expect(opts).toMatchObject({
      http2: true,
      https: { allowHTTP1: true, minVersion: "TLSv1.2", ciphers: TLS_CIPHERS, honorCipherOrder: true, cert: a.cert },
    });
    expect(tlsServerOptions({ TLS_CERT_FILE: undefined, TLS_KEY_FILE: undefined })).toBeUndefined();
  });

  it("names the variable and the file for unreadable, non-PEM, encrypted and mismatched files", () => {
    const missing = join(a.dir, "missing.pem");
    expect(configError({ TLS_CERT_FILE: missing, TLS_KEY_FILE: a.keyFile })).toEqual([`TLS_CERT_FILE: cannot read ${missing} (ENOENT)`]);
    expect(configError({ TLS_CERT_FILE: a.certFile, TLS_KEY_FILE: missing })).toEqual([`TLS_KEY_FILE: cannot read ${missing} (ENOENT)`]);
    expect(configError({ TLS_CERT_FILE: a.dir, TLS_KEY_FILE: a.keyFile })).toEqual([`TLS_CERT_FILE: cannot read ${a.dir} (EISDIR)`]);
    expect(configError({ TLS_CERT_FILE: garbage, TLS_KEY_FILE: a.keyFile })).toEqual([`TLS_CERT_FILE: ${garbage} is not a PEM certificate`]);
    expect(configError({ TLS_CERT_FILE: a.keyFile, TLS_KEY_FILE: a.keyFile })).toEqual([`TLS_CERT_FILE: ${a.keyFile} is not a PEM certificate`]);
    expect(configError({ TLS_CERT_FILE: a.certFile, TLS_KEY_FILE: garbage })).toEqual([`TLS_KEY_FILE: ${garbage} is not an unencrypted PEM private key`]);
    expect(configError({ TLS_CERT_FILE: a.certFile, TLS_KEY_FILE: encryptedKey })).toEqual([
      `TLS_KEY_FILE: ${encryptedKey} is not an unencrypted PEM private key`,
    ]);
    expect(configError({ TLS_CERT_FILE: a.certFile, TLS_KEY_FILE: b.keyFile })).toEqual([
      `TLS_KEY_FILE: the key in ${b.keyFile} does not match the certificate in ${a.certFile}`,
    ]);
  });

  it("`leasehold serve` with a key of another certificate exits 78 with that message, before opening the database", { timeout: 120_000 }, async () => {
    const r = await runCli(["serve"], {
      // Nothing listens on port 1: reaching the database step would fail differently (exit 1).
      DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none",
      LEASEHOLD_MASTER_KEY: testMasterKey(),
      HOST: "127.0.0.1",
      PORT: "0",
      TLS_CERT_FILE: a.certFile,
      TLS_KEY_FILE: b.keyFile,
    });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe(
      `leasehold: Invalid configuration:\n  - TLS_KEY_FILE: the key in ${b.keyFile} does not match the certificate in ${a.certFile}\n`,
    );
    expect(r.stdout).toBe("");
  });
});
