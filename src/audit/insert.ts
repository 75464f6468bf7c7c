import type { Database } from "../db/database.js";
import type { AuditRow, ReadSetRow } from "./rows.js";

/** Writes one batch of rows as one statement; rejects (writing nothing) if the statement fails. */
export type AuditInsert = (rows: AuditRow[]) => Promise<void>;

/**
 * A read set's last_event_at is moved forward only when it is more than this behind the newest
 * read naming it: a set read all day is updated once an hour, not once per batch, and every read
 * naming it happened at most this long after last_event_at (what retention relies on).
 */
export const READ_SET_TOUCH_SLACK = "1 hour";

/**
 * The batch travels as JSON text parameters (`JSON.stringify` of the rows, keys as named below)
 * and `jsonb_to_recordset` turns them back into rows: one statement whatever the batch size, no
 * per-value escaping in JavaScript, and absent keys (`metadata`) become NULL. (jsonb parses the
 * text once; json_to_recordset($1::json) validates it and then parses it again, about 20% more
 * PostgreSQL CPU.) The batch's distinct read sets ($2) are stored in the same statement, once
 * each: a set already stored costs an index probe instead of another 5 KB of lists.
 */
const INSERT_SQL = `
  WITH sets AS (
    INSERT INTO audit_read_sets AS rs (id, secret_ids, key_digests, versions, paths, last_event_at)
    SELECT decode(s."id", 'hex'), s."secretIds", s."keyDigests", s."versions", s."paths", s."lastEventAt"
      FROM jsonb_to_recordset($2::jsonb) AS s(
             "id" text, "secretIds" uuid[], "keyDigests" text[], "versions" int[], "paths" text[], "lastEventAt" timestamptz)
    ON CONFLICT (id) DO UPDATE SET last_event_at = excluded.last_event_at
     WHERE rs.last_event_at < excluded.last_event_at - interval '${READ_SET_TOUCH_SLACK}')
  INSERT INTO audit_events (occurred_at, event_type, account_type, user_id, service_account_id, token_id,
                            ip_address, user_agent, app_id, environment_id, secret_id, path, key_digest,
                            version, metadata, read_set_id)
  SELECT "occurredAt", "eventType", "accountType", "userId", "serviceAccountId", "tokenId", "ipAddress", "userAgent",
         "appId", "environmentId", "secretId", "path", "keyDigest", "version", "metadata", decode("readSetId", 'hex')
    FROM jsonb_to_recordset($1::jsonb) AS r(
           "occurredAt" timestamptz, "eventType" text, "accountType" text, "userId" uuid, "serviceAccountId" uuid,
           "tokenId" uuid, "ipAddress" text, "userAgent" text, "appId" uuid, "environmentId" uuid, "secretId" uuid,
           "path" text, "keyDigest" text, "version" int, "metadata" jsonb, "readSetId" text)`;

/**
 * How the audit writer reaches the database: `db.query`, the statement sent directly on a
 * connection of its own (a pool connection, or PGlite, which queues it behind an open transaction
 * rather than running it inside one), prepared once per connection. Prisma's handling of the same
 * statement costs several times the CPU (`createMany`, about 25x).
 */
export function auditInserter(db: Pick<Database, "query">): AuditInsert {
  return async (rows) => {
    if (rows.length === 0) return;
    const sets = new Map<string, ReadSetRow & { lastEventAt: Date }>();
    const events = rows.map(({ readSet, ...row }) => {
      if (readSet) {
        const seen = sets.get(readSet.id);
        if (!seen) sets.set(readSet.id, { ...readSet, lastEventAt: row.occurredAt });
        else if (row.occurredAt > seen.lastEventAt) seen.lastEventAt = row.occurredAt;
      }
      return row;
    });
    await db.query(INSERT_SQL, [JSON.stringify(events), JSON.stringify([...sets.values()])], { name: "lh_audit_insert" });
  };
}
