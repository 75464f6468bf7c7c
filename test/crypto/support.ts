import { randomBytes } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/paths.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const XCHACHA = join(PROJECT_ROOT, "test/crypto/fixtures/xchacha.py");

/** Opens a sealed blob with the independent Python implementation; null when it does not verify. */
export function pythonOpen(key: Uint8Array, blob: Uint8Array, ad: string): Uint8Array | null {
  const r = spawnSync("python3", [XCHACHA, "open", hex(key), hex(blob), ad], { encoding: "utf8" });
  if (r.status === 1) return null;
  if (r.status !== 0) throw new Error(`xchacha.py failed: ${r.stderr}`);
  return new Uint8Array(Buffer.from(r.stdout.trim(), "hex"));
}

/** Seals with the independent Python implementation, in our blob layout. */
export function pythonSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: string): Uint8Array {
  return new Uint8Array(Buffer.from(execFileSync("python3", [XCHACHA, "seal", hex(key), hex(nonce), hex(plaintext), ad], { encoding: "utf8" }).trim(), "hex"));
}

/** hashlib.blake2b(message, key=key, digest_size=32) of UTF-8 strings, computed by Python (one process for all). */
export function pythonBlake2b(pairs: Array<{ message: string; key: string }>): string[] {
  const script =
    "import hashlib,json,sys\n" +
    "for p in json.load(sys.stdin): print(hashlib.blake2b(p['message'].encode(), key=p['key'].encode(), digest_size=32).hexdigest())";
  return execFileSync("python3", ["-c", script], { input: JSON.stringify(pairs), encoding: "utf8" }).trim().split("\n");
}

/** Python's str.upper() of each string, for comparing case rules with JavaScript's toUpperCase(). */
export function pythonUpper(strings: string[]): string[] {
  const script = "import json,sys; print(json.dumps([s.upper() for s in json.load(sys.stdin)]))";
  return JSON.parse(execFileSync("python3", ["-c", script], { input: JSON.stringify(strings), encoding: "utf8" })) as string[];
}

/** A fresh random 32-byte key. */
export const randomKey = () => new Uint8Array(randomBytes(32));

/** DecryptionError's message for a blob sealed with associated data `ad`. */
export const decryptFailure = (ad: string) => `Could not decrypt ${ad}: wrong key, tampered data, or data moved from another row`;
