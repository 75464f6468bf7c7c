import { randomBytes } from "node:crypto";
import { sodium } from "./sodium.js";

/**
 * Sealed blob layout: 1 version byte (0x01) || 24-byte nonce || XChaCha20-Poly1305 ciphertext+tag.
 * The associated data names the row and field the blob belongs to, so a blob copied to another
 * row or field fails authentication. Nonces come from the OS CSPRNG (node:crypto): libsodium's
 * randombytes_buf is very slow under Node.
 */
const VERSION = 0x01;
const NONCE_BYTES = 24;
export const HEADER = 1 + NONCE_BYTES;
export const TAG_BYTES = 16;

/** Long enough and of our version: worth handing to the cipher at all. */
export const wellFormed = (blob: Uint8Array): boolean => blob.length >= HEADER + TAG_BYTES && blob[0] === VERSION;

export class DecryptionError extends Error {
  constructor(what: string) {
    super(`Could not decrypt ${what}: wrong key, tampered data, or data moved from another row`);
    this.name = "DecryptionError";
  }
}

/** A blob to open and the associated data it was sealed with (see ./aead-batch.ts). */
export interface OpenRequest {
  blob: Uint8Array;
  ad: string;
}

/** Bytes backed by a plain ArrayBuffer, as Prisma's Bytes fields require. */
export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function seal(key: Uint8Array, plaintext: Uint8Array | string, ad: string): Bytes {
  const message = typeof plaintext === "string" ? encoder.encode(plaintext) : plaintext;
  const nonce = randomBytes(NONCE_BYTES);
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(message, encoder.encode(ad), null, nonce, key);
  const out = new Uint8Array(HEADER + ct.length);
  out[0] = VERSION;
  out.set(nonce, 1);
  out.set(ct, HEADER);
  return out;
}

export function open(key: Uint8Array, blob: Uint8Array, ad: string): Uint8Array {
  return openWithAd(key, blob, encoder.encode(ad), ad);
}

/** `open` with the associated data already encoded; `what` names it in the error. */
export function openWithAd(key: Uint8Array, blob: Uint8Array, ad: Uint8Array, what: string): Uint8Array {
  if (!wellFormed(blob)) throw new DecryptionError(what);
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, blob.subarray(HEADER), ad, blob.subarray(1, HEADER), key);
  } catch {
    throw new DecryptionError(what);
  }
}

export function sealString(key: Uint8Array, plaintext: string, ad: string): Bytes {
  return seal(key, plaintext, ad);
}

export function openString(key: Uint8Array, blob: Uint8Array, ad: string): string {
  return decoder.decode(open(key, blob, ad));
}

/** `openString` with the associated data already encoded. */
export function openStringWithAd(key: Uint8Array, blob: Uint8Array, ad: Uint8Array, what: string): string {
  return decoder.decode(openWithAd(key, blob, ad, what));
}
