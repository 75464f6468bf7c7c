import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { DecryptionError, open, openString, seal, sealString } from "../../src/crypto/aead.js";
import { fieldAd, openField, sealField } from "../../src/crypto/fields.js";
import { sodium, sodiumReady } from "../../src/crypto/sodium.js";
import { decryptFailure as failure, pythonOpen, pythonSeal, randomKey as key } from "./support.js";

describe("sealed blobs (XChaCha20-Poly1305)", () => {
  beforeAll(() => sodiumReady());

  it("round-trip strings (empty, unicode, long) and bytes", () => {
    const k = key();
    for (const text of ["", "hello", "päßwörd ✓ 🔑", "x".repeat(100_000)]) expect(openString(k, sealString(k, text, "ad"), "ad")).toBe(text);
    const bytes = new Uint8Array(randomBytes(300));
    expect(Buffer.from(open(k, seal(k, bytes, "ad"), "ad")).equals(Buffer.from(bytes))).toBe(true);
  });

  it("layout: version 0x01, a fresh 24-byte nonce, ciphertext and a 16-byte tag", () => {
    const k = key();
    const a = seal(k, "same", "ad");
    const b = seal(k, "same", "ad");
    expect(a.length).toBe(1 + 24 + 4 + 16);
    expect(a[0]).toBe(0x01);
    expect(Buffer.from(a.subarray(1, 25)).equals(Buffer.from(b.subarray(1, 25)))).toBe(false);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    // libsodium called directly with the documented arguments opens it.
    const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, a.subarray(25), new TextEncoder().encode("ad"), a.subarray(1, 25), k);
    expect(new TextDecoder().decode(plain)).toBe("same");
  });

  it("interoperates with an independent implementation (Python: HChaCha20 + cryptography's ChaCha20-Poly1305)", () => {
    const k = key();
    const blob = seal(k, "interop ✓", "leasehold/v1/secret/row/value");
    expect(new TextDecoder().decode(pythonOpen(k, blob, "leasehold/v1/secret/row/value")!)).toBe("interop ✓");
    expect(pythonOpen(k, blob, "leasehold/v1/secret/row/key")).toBeNull();
    const theirs = pythonSeal(k, new Uint8Array(randomBytes(24)), new TextEncoder().encode("from python"), "ad");
    expect(openString(k, theirs, "ad")).toBe("from python");
  });

  it("any flipped byte (version, nonce, ciphertext, tag) fails to open", () => {
    const k = key();
    const blob = seal(k, "tamper me", "ad");
    for (const i of [0, 1, 24, 25, 25 + 4, blob.length - 1]) {
      const bad = Uint8Array.from(blob);
      bad[i]! ^= 0x01;
      expect(() => open(k, bad, "ad")).toThrow(new DecryptionError("ad"));
    }
    expect(() => open(k, blob.subarray(0, blob.length - 1), "ad")).toThrow(DecryptionError);
  });

  it("checks the version byte and the minimum length before trying to decrypt", () => {
    const k = key();
    const blob = seal(k, "v", "ad");
    const v2 = Uint8Array.from(blob);
    v2[0] = 0x02;
    expect(() => open(k, v2, "ad")).toThrow(failure("ad"));
    expect(() => open(k, new Uint8Array(0), "ad")).toThrow(failure("ad"));
    expect(() => open(k, blob.subarray(0, 1 + 24 + 15), "ad")).toThrow(failure("ad"));
    expect(openString(k, seal(k, "", "ad"), "ad")).toBe(""); // the shortest valid blob: header + tag
  });

  it("the wrong key fails", () => {
    const blob = seal(key(), "secret", "ad");
    expect(() => open(key(), blob, "ad")).toThrow(failure("ad"));
  });

  it("binds each field to its row and field name: moved to another row or field, it fails", () => {
    const keys = { dataKey: key(), salt: "0".repeat(64) };
    const row = "7b0c1f5e-4a2d-4c1e-9f00-000000000001";
    const other = "7b0c1f5e-4a2d-4c1e-9f00-000000000002";
    const blob = sealField(keys, { table: "secret", field: "value" }, row, "hunter2");
    expect(openField(keys, { table: "secret", field: "value" }, row, blob)).toBe("hunter2");
    expect(fieldAd({ table: "secret", field: "value" }, row)).toBe(`leasehold/v1/secret/${row}/value`);
    expect(() => openField(keys, { table: "secret", field: "value" }, other, blob)).toThrow(failure(`leasehold/v1/secret/${other}/value`));
    expect(() => openField(keys, { table: "secret", field: "key" }, row, blob)).toThrow(DecryptionError);
    expect(() => openField(keys, { table: "personal_secret", field: "value" }, row, blob)).toThrow(DecryptionError);
  });
});
