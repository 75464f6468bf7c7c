import { DecryptionError, HEADER, TAG_BYTES as TAG, wellFormed, type OpenRequest } from "./aead.js";
import { rawSodium, type RawSodium } from "./sodium.js";

const KEY = 32;
/**
 * Blobs opened per allocation, by their working size: WASM memory never shrinks, so one huge
 * listing must not grow it for good (a single blob larger than this still goes alone).
 */
const CHUNK_BYTES = 1 << 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Bytes an item needs in WASM memory: nonce + ciphertext + its plaintext + the AD at its longest UTF-8 length. */
function workingSize(it: OpenRequest): number {
  if (!wellFormed(it.blob)) throw new DecryptionError(it.ad);
  return it.blob.length - 1 + (it.blob.length - HEADER - TAG) + it.ad.length * 3;
}

/**
 * `openStringWithAd` for many blobs under one key, in few trips into libsodium's memory: the key
 * is copied in once per chunk, every nonce, ciphertext and associated data into one allocation,
 * and each plaintext is decoded straight out of it. The same XChaCha20-Poly1305 call as `open`
 * (results are identical); what it saves is the wrapper's per-call allocations and copies, which
 * cost more than the cipher for short secrets. Each allocation is zeroed before it is freed.
 * Throws DecryptionError naming the first blob that fails.
 */
export function openStringsWithKey(key: Uint8Array, items: readonly OpenRequest[]): string[] {
  if (key.length !== KEY) throw new Error("XChaCha20-Poly1305 keys are 32 bytes");
  const raw = rawSodium();
  const out: string[] = new Array(items.length);
  let start = 0;
  while (start < items.length) {
    let end = start;
    let size = KEY;
    while (end < items.length) {
      const need = workingSize(items[end]!);
      if (end > start && size + need > CHUNK_BYTES) break;
      size += need;
      end++;
    }
    openChunk(raw, key, items, start, end, size, out);
    start = end;
  }
  return out;
}

function openChunk(raw: RawSodium, key: Uint8Array, items: readonly OpenRequest[], start: number, end: number, size: number, out: string[]): void {
  const base = raw._malloc(size);
  if (!base) throw new Error("libsodium: out of memory");
  try {
    const heap = raw.HEAPU8; // read after _malloc: growing the memory replaces the view
    heap.set(key, base);
    let at = base + KEY;
    for (let i = start; i < end; i++) {
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
  } finally {
    raw.HEAPU8.fill(0, base, base + size);
    raw._free(base);
  }
}
