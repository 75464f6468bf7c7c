import { DecryptionError, type OpenRequest } from "./aead.js";
import { rawSodium } from "./sodium.js";

const HEADER = 1 + 24; // version byte, nonce (src/crypto/aead.ts)
const TAG = 16;
const KEY = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * `openStringWithAd` for many blobs under one key, with one trip into libsodium's memory: the key
 * is copied in once, every nonce, ciphertext and associated data into one allocation, and each
 * plaintext is decoded straight out of it. The same XChaCha20-Poly1305 call as `open` (results
 * are identical); what it saves is the wrapper's per-call allocations and copies, which cost more
 * than the cipher for short secrets. The allocation is zeroed before it is freed. Throws
 * DecryptionError naming the first blob that fails.
 */
export function openStringsWithKey(key: Uint8Array, items: readonly OpenRequest[]): string[] {
  if (items.length === 0) return [];
  const raw = rawSodium();
  if (key.length !== KEY) throw new Error("XChaCha20-Poly1305 keys are 32 bytes");
  let size = KEY;
  for (const it of items) {
    if (it.blob.length < HEADER + TAG || it.blob[0] !== 0x01) throw new DecryptionError(it.ad);
    // nonce + ciphertext + its plaintext + the AD at its longest UTF-8 length
    size += it.blob.length - 1 + (it.blob.length - HEADER - TAG) + it.ad.length * 3;
  }
  const base = raw._malloc(size);
  if (!base) throw new Error("libsodium: out of memory");
  try {
    const heap = raw.HEAPU8; // read after _malloc: growing the memory replaces the view
    heap.set(key, base);
    let at = base + KEY;
    const out: string[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const { blob, ad } = items[i]!;
      const nonce = at;
      heap.set(blob.subarray(1), nonce); // nonce, then ciphertext + tag
      const c = nonce + 24;
      const clen = blob.length - HEADER;
      const m = c + clen;
      const mlen = clen - TAG;
      const adPtr = m + mlen;
      const { written } = encoder.encodeInto(ad, heap.subarray(adPtr, adPtr + ad.length * 3));
      at = adPtr + written;
      if (raw._crypto_aead_xchacha20poly1305_ietf_decrypt(m, 0, 0, c, clen, 0, adPtr, written, 0, nonce, base) !== 0) {
        throw new DecryptionError(ad);
      }
      try {
        out[i] = decoder.decode(heap.subarray(m, m + mlen));
      } catch {
        throw new DecryptionError(ad);
      }
    }
    return out;
  } finally {
    raw.HEAPU8.fill(0, base, base + size);
    raw._free(base);
  }
}
