import { sodium } from "./sodium.js";

/**
 * Phase's keyDigest: BLAKE2b-256 of the upper-cased key (UTF-8), keyed with the environment's salt
 * string (64 hex characters, used as its UTF-8 bytes), as lowercase hex.
 */
export function keyDigest(key: string, salt: string): string {
  return sodium.crypto_generichash(32, key.toUpperCase(), new TextEncoder().encode(salt), "hex");
}

/** The same digest without upper-casing: Phase looks referenced keys up case-sensitively. */
export function exactKeyDigest(key: string, salt: string): string {
  return sodium.crypto_generichash(32, key, new TextEncoder().encode(salt), "hex");
}
