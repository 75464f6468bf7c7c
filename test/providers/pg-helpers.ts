import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import pg from "pg";

/**
 * Checks a password against a stored SCRAM-SHA-256 verifier (pg_authid.rolpassword,
 * "SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>", RFC 5802/7677). ASCII passwords only
 * (SASLprep leaves them unchanged).
 */
export function scramVerifies(stored: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored);
  if (!m) return false;
  const [, iter, salt, storedKey, serverKey] = m as unknown as [string, string, string, string, string];
  const salted = pbkdf2Sync(password, Buffer.from(salt, "base64"), Number(iter), 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const expectStored = createHash("sha256").update(clientKey).digest();
  const expectServer = createHmac("sha256", salted).update("Server Key").digest();
  return (
    timingSafeEqual(expectStored, Buffer.from(storedKey, "base64")) &&
    timingSafeEqual(expectServer, Buffer.from(serverKey, "base64"))
  );
}

/** A real login as `user` (a new connection, not SET ROLE), over TCP to 127.0.0.1. */
export async function connectAs(user: string, password: string, database: string, host = "127.0.0.1"): Promise<pg.Client> {
  const c = new pg.Client({ host, port: 5432, user, password, database, connectionTimeoutMillis: 5000 });
  c.on("error", () => undefined); // terminated sessions emit 'error'; the test looks at query results
  await c.connect();
  return c;
}

interface HbaRule {
  type: string;
  database: string[];
  user_name: string[];
  address: string | null;
  auth_method: string;
}

/**
 * A TCP host (127.0.0.1 or ::1) whose first matching pg_hba rule checks passwords, if any. Rough:
 * it matches rules by exact address or "all" and ignores netmasks, which suffices to tell a
 * trust-everything machine from one that has a password line.
 */
export async function passwordCheckingHost(query: (sql: string) => Promise<unknown[]>): Promise<string | null> {
  const rules = (await query(
    "SELECT type, database, user_name, address, auth_method FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number",
  )) as HbaRule[];
  for (const host of ["127.0.0.1", "::1"]) {
    const first = rules.find(
      (r) =>
        r.type.startsWith("host") &&
        (r.address === host || r.address === null || r.address === "all") &&
        r.database.includes("all") &&
        r.user_name.includes("all"),
    );
    if (first && ["scram-sha-256", "md5", "password"].includes(first.auth_method)) return host;
  }
  return null;
}
