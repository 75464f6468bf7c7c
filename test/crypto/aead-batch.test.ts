import { beforeAll, describe, expect, it } from "vitest";
import { openStringsWithKey } from "../../src/crypto/aead-batch.js";
import { DecryptionError, openString, seal, sealString } from "../../src/crypto/aead.js";
import { rawSodium, sodiumReady } from "../../src/crypto/sodium.js";
import { decryptFailure as failure, randomKey as key } from "./support.js";

describe("openStringsWithKey: many blobs under one key in one trip into libsodium", () => {
  beforeAll(() => sodiumReady());

  it("gives what openString gives, blob by blob, for empty, unicode, long and many values", () => {
    const k = key();
    const texts = ["", "hello", "päßwörd ✓ 🔑", "x".repeat(200_000), ...Array.from({ length: 300 }, (_, i) => `value-${i}-${"é".repeat(i % 7)}`)];
    const items = texts.map((t, i) => ({ blob: sealString(k, t, `leasehold/v1/secret/${i}/välue`), ad: `leasehold/v1/secret/${i}/välue` }));
    const opened = openStringsWithKey(k, items);
    expect(opened).toEqual(texts);
    expect(opened).toEqual(items.map((it) => openString(k, it.blob, it.ad)));
    expect(openStringsWithKey(k, [])).toEqual([]);
  });

  it("memory growth mid-batch (megabytes of values) changes nothing", () => {
    const k = key();
    const big = Array.from({ length: 20 }, (_, i) => String(i).repeat(600_000));
    const items = big.map((t, i) => ({ blob: sealString(k, t, `ad${i}`), ad: `ad${i}` }));
    expect(openStringsWithKey(k, items)).toEqual(big);
  });

  it("opens a large listing in bounded chunks: libsodium's memory (which never shrinks) grows by about one chunk, not by the listing", () => {
    const k = key();
    const values = Array.from({ length: 64 }, (_, i) => `${i}`.padEnd(512 * 1024, "v")); // 32 MiB of values
    const items = values.map((t, i) => ({ blob: sealString(k, t, `big/${i}`), ad: `big/${i}` }));
    openStringsWithKey(k, items.slice(0, 2)); // let the heap reach its working size first
    const before = rawSodium().HEAPU8.length;
    expect(openStringsWithKey(k, items)).toEqual(values);
    expect(rawSodium().HEAPU8.length - before).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it("a blob moved to another row, tampered, truncated, of an unknown version or under another key fails, naming it", () => {
    const k = key();
    const good = { blob: sealString(k, "ok", "row/1"), ad: "row/1" };
    const moved = { blob: sealString(k, "secret", "row/2"), ad: "row/3" };
    const tampered = sealString(k, "secret", "row/4");
    tampered[30]! ^= 1;
    const badVersion = sealString(k, "secret", "row/5");
    badVersion[0] = 2;
    const cases = [
      moved,
      { blob: tampered, ad: "row/4" },
      { blob: badVersion, ad: "row/5" },
      { blob: sealString(k, "s", "row/6").subarray(0, 40), ad: "row/6" },
      { blob: sealString(key(), "s", "row/7"), ad: "row/7" },
    ];
    for (const bad of cases) {
      const attempt = () => openStringsWithKey(k, [good, bad, good]);
      expect(attempt).toThrow(DecryptionError);
      expect(attempt).toThrow(failure(bad.ad));
    }
    expect(() => openStringsWithKey(k.subarray(0, 16), [good])).toThrow(/32 bytes/);
  });

  it("plaintext that is not UTF-8 is a decryption failure, not mojibake", () => {
    const k = key();
    const invalid = { blob: seal(k, new Uint8Array([0x61, 0xff, 0xfe]), "row/8"), ad: "row/8" };
    expect(() => openStringsWithKey(k, [invalid])).toThrow(failure("row/8"));
  });
});
