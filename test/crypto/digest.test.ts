import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { exactKeyDigest, keyDigest } from "../../src/crypto/digest.js";
import { sodium, sodiumReady } from "../../src/crypto/sodium.js";
import { pythonBlake2b, pythonUpper } from "./support.js";

const SALT = "3f1c2b9a8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d";

describe("keyDigest (Phase: BLAKE2b-256 of the upper-cased key, keyed with the salt string)", () => {
  beforeAll(() => sodiumReady());

  // Derived once with Python, independently of our code:
  //   hashlib.blake2b(key.upper().encode(), key=SALT.encode(), digest_size=32).hexdigest()
  it.each([
    ["database_url", "bd134d2781b485b7e49c66c524b431aaddbd670ea918e192b3d395c3f9924080"],
    ["DATABASE_URL", "bd134d2781b485b7e49c66c524b431aaddbd670ea918e192b3d395c3f9924080"],
    ["Api.Key-1", "4dee4799944dacf8485bfa78e91f3ef0300894f506d4706cc209d62f7653cef7"],
    ["straße", "2873385f6f57c501aacdf32920bb678ee7c68679e006cfacf023c2b27935a225"],
  ])("known vector: %s", (key, expected) => {
    expect(keyDigest(key, SALT)).toBe(expected);
  });

  it("equals Python's hashlib.blake2b for random keys and salts", () => {
    const cases = Array.from({ length: 20 }, () => ({ key: `k_${randomBytes(6).toString("base64url")}_ß`, salt: randomBytes(32).toString("hex") }));
    expect(pythonUpper(cases.map((c) => c.key))).toEqual(cases.map((c) => c.key.toUpperCase())); // same case rules on both sides
    const expected = pythonBlake2b(cases.map((c) => ({ message: c.key.toUpperCase(), key: c.salt })));
    expect(cases.map((c) => keyDigest(c.key, c.salt))).toEqual(expected);
  });

  it("equals libsodium's generichash called directly with explicit arguments", () => {
    const key = "Mixed_Case_Key";
    const direct = sodium.crypto_generichash(32, Buffer.from("MIXED_CASE_KEY", "utf8"), Buffer.from(SALT, "utf8"));
    expect(keyDigest(key, SALT)).toBe(Buffer.from(direct).toString("hex"));
  });

  it("is 64 lowercase hex characters, case-insensitive in the key, and salt-dependent", () => {
    expect(keyDigest("a", SALT)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyDigest("a", SALT)).toBe(keyDigest("A", SALT));
    expect(keyDigest("a", SALT)).not.toBe(keyDigest("a", "0".repeat(64)));
  });

  it("exactKeyDigest does not upper-case", () => {
    expect(exactKeyDigest("database_url", SALT)).toBe("25120fb2f746b56365d1fc50c086bc40715d35ff127be07086b806e8fe26aebe");
    expect(exactKeyDigest("database_url", SALT)).toBe(pythonBlake2b([{ message: "database_url", key: SALT }])[0]);
    expect(exactKeyDigest("DATABASE_URL", SALT)).toBe(keyDigest("database_url", SALT));
  });
});
