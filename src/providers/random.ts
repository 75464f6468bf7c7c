import { randomBytes } from "node:crypto";

/** Source of random bytes; injectable so tests can make generated names predictable. */
export type RandomSource = (size: number) => Buffer;

export const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
/** 64 URL-safe characters: no quotes, backslashes, '%', '@', ':' or '/'. */
export const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A uniformly random string over `alphabet` (rejection sampling, so no modulo bias). */
export function randomString(length: number, alphabet: string, random: RandomSource = randomBytes): string {
  if (alphabet.length < 2 || alphabet.length > 256) throw new Error("alphabet must have 2..256 characters");
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const b of random(Math.max(16, (length - out.length) * 2))) {
      if (b >= limit) continue;
      out += alphabet[b % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}
