import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { DecryptionError } from "../../src/crypto/aead.js";
import { MasterKey, MasterKeyMismatchError } from "../../src/crypto/envelope.js";
import { sodiumReady } from "../../src/crypto/sodium.js";

const ENV_A = "0f8a5b1c-0000-4000-8000-00000000000a";
const ENV_B = "0f8a5b1c-0000-4000-8000-00000000000b";
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("MasterKey (envelope encryption)", () => {
  beforeAll(() => sodiumReady());

  it("accepts exactly 32 bytes and generates 32 random bytes", () => {
    expect(() => new MasterKey(new Uint8Array(31))).toThrow("master key must be 32 bytes");
    expect(() => new MasterKey(new Uint8Array(33))).toThrow("master key must be 32 bytes");
    expect(MasterKey.generate()).toHaveLength(32);
    expect(same(MasterKey.generate(), MasterKey.generate())).toBe(false);
  });

  it("copies the key it is given, and equals() compares with it", () => {
    const bytes = MasterKey.generate();
    const mk = new MasterKey(bytes);
    const original = Uint8Array.from(bytes);
    bytes.fill(0);
    expect(mk.equals(original)).toBe(true);
    expect(mk.equals(bytes)).toBe(false);
    expect(mk.equals(new Uint8Array(5))).toBe(false);
  });

  it("creates environment keys (32-byte data key, 64-hex salt) that unwrap to the same values", () => {
    const mk = new MasterKey(MasterKey.generate());
    const { keys, wrapped } = mk.createEnvironmentKeys(ENV_A);
    expect(keys.dataKey).toHaveLength(32);
    expect(keys.salt).toMatch(/^[0-9a-f]{64}$/);
    const again = mk.unwrap(ENV_A, wrapped);
    expect(same(again.dataKey, keys.dataKey)).toBe(true);
    expect(again.salt).toBe(keys.salt);
    const other = mk.createEnvironmentKeys(ENV_A).keys;
    expect(same(other.dataKey, keys.dataKey)).toBe(false);
  });

  it("wrap/unwrap: bound to the environment id and to the master key", () => {
    const bytes = MasterKey.generate();
    const mk = new MasterKey(bytes);
    const keys = { dataKey: new Uint8Array(randomBytes(32)), salt: randomBytes(32).toString("hex") };
    const wrapped = mk.wrap(ENV_A, keys);
    const fresh = new MasterKey(bytes); // no cache
    expect(fresh.unwrap(ENV_A, wrapped)).toEqual(keys);
    expect(() => fresh.unwrap(ENV_B, wrapped)).toThrow(DecryptionError);
    expect(() => new MasterKey(MasterKey.generate()).unwrap(ENV_A, wrapped)).toThrow(
      `Could not decrypt leasehold/v1/environment-key/${ENV_A}: wrong key, tampered data, or data moved from another row`,
    );
  });

  it("the unwrap cache never answers for a different or tampered blob", () => {
    const mk = new MasterKey(MasterKey.generate());
    const { keys, wrapped } = mk.createEnvironmentKeys(ENV_A);
    expect(mk.unwrap(ENV_A, wrapped)).toEqual(keys); // now cached
    const tampered = Uint8Array.from(wrapped);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => mk.unwrap(ENV_A, tampered)).toThrow(DecryptionError);
    const rewrapped = mk.createEnvironmentKeys(ENV_A);
    expect(mk.unwrap(ENV_A, rewrapped.wrapped)).toEqual(rewrapped.keys);
  });

  it("server keys: round trip, bound to their purpose and the master key, 32 bytes only", () => {
    const mk = new MasterKey(MasterKey.generate());
    const key = new Uint8Array(randomBytes(32));
    const wrapped = mk.wrapServerKey("leases", key);
    expect(same(mk.unwrapServerKey("leases", wrapped), key)).toBe(true);
    expect(() => mk.unwrapServerKey("other", wrapped)).toThrow(DecryptionError);
    expect(() => new MasterKey(MasterKey.generate()).unwrapServerKey("leases", wrapped)).toThrow(DecryptionError);
    expect(() => mk.wrapServerKey("leases", new Uint8Array(16))).toThrow("server key must be 32 bytes");
  });

  it("canary: opens under its own key; another key fails with a clear MasterKeyMismatchError", () => {
    const mk = new MasterKey(MasterKey.generate());
    const canary = mk.makeCanary();
    expect(() => mk.verifyCanary(canary)).not.toThrow();
    expect(mk.opensCanary(canary)).toBe(true);
    const other = new MasterKey(MasterKey.generate());
    expect(other.opensCanary(canary)).toBe(false);
    expect(() => other.verifyCanary(canary)).toThrow(MasterKeyMismatchError);
    expect(() => other.verifyCanary(canary)).toThrow(
      "LEASEHOLD_MASTER_KEY does not match the master key this database was sealed with. " +
        "Start with the original key (to change keys, use `leasehold rotate-master-key`).",
    );
    expect(() => other.verifyCanary(canary, "The master key in /d/master.key")).toThrow(/^The master key in \/d\/master.key does not match/);
    // An environment key blob is not a canary (different associated data).
    expect(mk.opensCanary(mk.createEnvironmentKeys(ENV_A).wrapped)).toBe(false);
  });
});
