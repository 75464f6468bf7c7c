import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A bearer token: 32 random bytes shown once as 64 lowercase hex characters. */
export function generateToken(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Tokens carry 256 bits of entropy, so a fast hash is enough to make a stolen database useless
 * for authentication (no dictionary to try); the hash is the lookup key.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function constantTimeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}
