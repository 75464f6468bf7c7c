import type { Database } from "../db/database.js";
import type { AuditRow } from "./rows.js";

/** Writes one batch of rows as one statement; rejects (writing nothing) if the statement fails. */
export type AuditInsert = (rows: AuditRow[]) => Promise<void>;

/**
 * The batch travels as one JSON text parameter (`JSON.stringify` of the rows, keys as named below)
 * and `jsonb_to_recordset` turns it back into rows: one statement whatever the batch size, no
 * per-value escaping in JavaScript (a read row lists 50 ids, digests, versions and paths), and
 * absent keys (`metadata`) become NULL. (jsonb parses the text once; json_to_recordset($1::json)
 * validates it and then parses it again, about 20% more PostgreSQL CPU.)
 */
const INSERT_SQL = `
  INSERT INTO audit_events (occurred_at, event_type, account_type, user_id, service_account_id, token_id,
                            ip_address, user_agent, app_id, environment_id, secret_id, path, key_digest,
                            version, metadata, secret_ids, key_digests, versions, paths)
  SELECT "occurredAt", "eventType", "accountType", "userId", "serviceAccountId", "tokenId", "ipAddress", "userAgent",
         "appId", "environmentId", "secretId", "path", "keyDigest", "version", "metadata",
         "secretIds", "keyDigests", "versions", "paths"
    FROM jsonb_to_recordset($1::jsonb) AS r(
           "occurredAt" timestamptz, "eventType" text, "accountType" text, "userId" uuid, "serviceAccountId" uuid,
           "tokenId" uuid, "ipAddress" text, "userAgent" text, "appId" uuid, "environmentId" uuid, "secretId" uuid,
           "path" text, "keyDigest" text, "version" int, "metadata" jsonb,
           "secretIds" uuid[], "keyDigests" text[], "versions" int[], "paths" text[])`;

/**
 * How the audit writer reaches the database: `db.query`, the statement sent directly on a
 * connection of its own (a pool connection, or PGlite, which queues it behind an open transaction
 * rather than running it inside one), prepared once per connection. Prisma's handling of the same
 * statement costs several times the CPU (`createMany`, about 25x).
 */
export function auditInserter(db: Pick<Database, "query">): AuditInsert {
  return async (rows) => {
    if (rows.length === 0) return;
    await db.query(INSERT_SQL, [JSON.stringify(rows)], { name: "lh_audit_insert" });
  };
}
