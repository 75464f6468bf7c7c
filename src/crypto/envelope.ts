import { randomBytes, timingSafeEqual } from "node:crypto";
import { DecryptionError, open, seal, type Bytes } from "./aead.js";

/** An environment's unwrapped keys: the AEAD data key and Phase's keyDigest salt (64 hex chars). */
export interface EnvironmentKeys {
  readonly dataKey: Uint8Array;
  readonly salt: string;
}

const CANARY_AD = "leasehold/v1/master-key-check";
const CANARY = "leasehold master key check";
const envKeyAd = (environmentId: string) => `leasehold/v1/environment-key/${environmentId}`;
const serverKeyAd = (purpose: string) => `leasehold/v1/server-key/${purpose}`;

export class MasterKeyMismatchError extends Error {
  /** @param source where the key came from, as the operator knows it (the variable or the key file). */
  constructor(source = "LEASEHOLD_MASTER_KEY") {
    super(
      `${source} does not match the master key this database was sealed with. ` +
        "Start with the original key (to change keys, use `leasehold rotate-master-key`).",
    );
    this.name = "MasterKeyMismatchError";
  }
}

/**
 * The master key wraps one random data key (and keyDigest salt) per environment. Secret fields are
 * sealed with the environment's data key, so rotating the master key re-wraps only these small
 * blobs and never touches a secret row.
 */
export class MasterKey {
  readonly #key: Uint8Array;
  readonly #cache = new Map<string, { wrapped: Uint8Array; keys: EnvironmentKeys }>();

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error("master key must be 32 bytes");
    this.#key = Uint8Array.from(key);
  }

  static generate(): Uint8Array {
    return new Uint8Array(randomBytes(32));
  }

  makeCanary(): Bytes {
    return seal(this.#key, CANARY, CANARY_AD);
  }

  /** Throws MasterKeyMismatchError (naming `source`) unless the canary was sealed under this key. */
  verifyCanary(canary: Uint8Array, source?: string): void {
    if (!this.opensCanary(canary)) throw new MasterKeyMismatchError(source);
  }

  opensCanary(canary: Uint8Array): boolean {
    try {
      open(this.#key, canary, CANARY_AD);
      return true;
    } catch (e) {
      if (e instanceof DecryptionError) return false;
      throw e;
    }
  }

  /** Whether `key` is this master key (constant time). */
  equals(key: Uint8Array): boolean {
    return key.length === 32 && timingSafeEqual(this.#key, key);
  }

  /** New random keys for an environment, and their wrapped form to store on its row. */
  createEnvironmentKeys(environmentId: string): { keys: EnvironmentKeys; wrapped: Bytes } {
    const dataKey = new Uint8Array(randomBytes(32));
    const salt = randomBytes(32).toString("hex");
    return { keys: { dataKey, salt }, wrapped: this.wrap(environmentId, { dataKey, salt }) };
  }

  wrap(environmentId: string, keys: EnvironmentKeys): Bytes {
    const plain = new Uint8Array(32 + 64);
    plain.set(keys.dataKey, 0);
    plain.set(Buffer.from(keys.salt, "utf8"), 32);
    return seal(this.#key, plain, envKeyAd(environmentId));
  }

  /**
   * Server-wide data keys (table server_keys, one per purpose) are wrapped here too, so that
   * `rotate-master-key` re-wraps them along with the environment keys.
   */
  wrapServerKey(purpose: string, key: Uint8Array): Bytes {
    if (key.length !== 32) throw new Error("server key must be 32 bytes");
    return seal(this.#key, key, serverKeyAd(purpose));
  }

  unwrapServerKey(purpose: string, wrapped: Uint8Array): Uint8Array {
    return open(this.#key, wrapped, serverKeyAd(purpose));
  }

  unwrap(environmentId: string, wrapped: Uint8Array): EnvironmentKeys {
    const hit = this.#cache.get(environmentId);
    if (hit && Buffer.compare(hit.wrapped, wrapped) === 0) return hit.keys;
    const plain = open(this.#key, wrapped, envKeyAd(environmentId));
    const keys = { dataKey: plain.slice(0, 32), salt: Buffer.from(plain.subarray(32)).toString("utf8") };
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(environmentId, { wrapped: Uint8Array.from(wrapped), keys });
    return keys;
  }
}
