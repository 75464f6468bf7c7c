import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * PostgreSQL's SCRAM-SHA-256 password verifier (RFC 5802/7677, as `password_encryption =
 * scram-sha-256` stores it): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64.
 * Sending the verifier instead of the password keeps the clear password out of the server's
 * statement logs. Passwords must be ASCII without control characters (SASLprep is then the identity).
 */
const ITERATIONS = 4096;

function keys(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return {
    storedKey: createHash("sha256").update(clientKey).digest(),
    serverKey: createHmac("sha256", salted).update("Server Key").digest(),
  };
}

export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = ITERATIONS): string {
  if (!/^[\x20-\x7e]+$/.test(password)) throw new Error("SCRAM verifiers are computed for printable ASCII passwords only");
  const { storedKey, serverKey } = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** Does `password` match the stored verifier? (what the server checks at a SCRAM login) */
export function scramMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return false;
  const { storedKey } = keys(password, Buffer.from(m[2]!, "base64"), Number(m[1]));
  const expected = Buffer.from(m[3]!, "base64");
  return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
}
