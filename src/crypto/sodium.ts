import sodium from "libsodium-wrappers";

/** The parts of libsodium's WASM module (under libsodium-wrappers) that ./aead-batch.ts calls directly. */
export interface RawSodium {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  /** 64-bit lengths are passed as (low, high) 32-bit halves. */
  _crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: number, mlenP: number, nsec: number, c: number, clenLow: number, clenHigh: number,
    ad: number, adlenLow: number, adlenHigh: number, npub: number, k: number,
  ): number;
}

let ready: Promise<void> | undefined;
let raw: RawSodium | undefined;

/**
 * libsodium's WASM must be initialised once before any call; every entry point awaits this. It
 * also checks that the wrappers still expose their WASM module (`sodium.libsodium`), so a change
 * there stops start-up instead of a request.
 */
export function sodiumReady(): Promise<void> {
  ready ??= sodium.ready.then(() => {
    const m = (sodium as unknown as { libsodium?: Partial<RawSodium> }).libsodium;
    const needed = ["_malloc", "_free", "_crypto_aead_xchacha20poly1305_ietf_decrypt"] as const;
    if (!m || !(m.HEAPU8 instanceof Uint8Array) || needed.some((f) => typeof m[f] !== "function")) {
      throw new Error("libsodium-wrappers no longer exposes its WASM module (sodium.libsodium)");
    }
    raw = m as RawSodium;
  });
  return ready;
}

/** The WASM module itself; only after sodiumReady(). */
export function rawSodium(): RawSodium {
  if (!raw) throw new Error("libsodium is not initialised: await sodiumReady() first");
  return raw;
}

export { sodium };
