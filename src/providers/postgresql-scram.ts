import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

/**
 * PostgreSQL's SCRAM-SHA-256 password verifier (RFC 5802/7677, as `password_encryption =
 * scram-sha-256` stores it): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64.
 * Sending the verifier instead of the password keeps the clear password out of the server's
 * statement logs. Passwords must be ASCII without control characters (SASLprep is then the identity).
 */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

const pbkdf2Async = promisify(pbkdf2);

function keys(password: string, salt: Buffer, iterations: number) {
  return keysFrom(pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256"));
}

function keysFrom(salted: Buffer) {
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return {
    storedKey: createHash("sha256").update(clientKey).digest(),
    serverKey: createHmac("sha256", salted).update("Server Key").digest(),
  };
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

function format(iterations: number, salt: Buffer, k: { storedKey: Buffer; serverKey: Buffer }): string {
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${k.storedKey.toString("base64")}:${k.serverKey.toString("base64")}`;
}

export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = DEFAULT_SCRAM_ITERATIONS): string {
  if (!PRINTABLE_ASCII.test(password)) throw new Error("SCRAM verifiers are computed for printable ASCII passwords only");
  return format(iterations, salt, keys(password, salt, iterations));
}

/**
 * `scramVerifier` off the event loop (PBKDF2 runs on libuv's thread pool, about 1.2 ms here at
 * 4096 iterations). It does not spare the server its own PBKDF2: PostgreSQL still runs one on a
 * pre-hashed verifier, with the verifier's iteration count, to check that it is not the verifier
 * of an empty password (about 3.3 ms of its CPU per role here at 4096, the same as hashing a clear
 * password), which is what bounds concurrent role creation.
 */
export async function scramVerifierAsync(password: string, iterations = DEFAULT_SCRAM_ITERATIONS): Promise<string> {
  if (!PRINTABLE_ASCII.test(password)) throw new Error("SCRAM verifiers are computed for printable ASCII passwords only");
  const salt = randomBytes(16);
  return format(iterations, salt, keysFrom(await pbkdf2Async(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256")));
}

/** `PASSWORD '{{password}}'` (optionally ENCRYPTED): where a creation statement sets the role's password. */
const PASSWORD_CLAUSE = /\b((?:ENCRYPTED\s+)?PASSWORD\s+)'\{\{\s*password\s*\}\}'/gi;

/**
 * A creation statement with every `PASSWORD '{{password}}'` clause given the verifier instead, so
 * the clear password never reaches the server (nor its statement log, nor pg_stat_statements).
 * Any other `{{password}}` in the statement is left for the template to fill in as usual.
 */
export function withVerifierInPasswordClauses(statement: string, verifier: string): string {
  return statement.replace(PASSWORD_CLAUSE, (_m, clause: string) => `${clause}'${verifier}'`);
}

/** The same clause, for a yes/no test (a global regex keeps state between `test` calls). */
const ANY_PASSWORD_CLAUSE = new RegExp(PASSWORD_CLAUSE.source, "i");

/** Does any statement set the password with `PASSWORD '{{password}}'` (then a verifier is needed)? */
export function hasPasswordClause(statements: readonly string[]): boolean {
  return statements.some((s) => ANY_PASSWORD_CLAUSE.test(s));
}

/** Does `password` match the stored verifier? (what the server checks at a SCRAM login) */
export function scramMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return false;
  const { storedKey } = keys(password, Buffer.from(m[2]!, "base64"), Number(m[1]));
  const expected = Buffer.from(m[3]!, "base64");
  return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
}
