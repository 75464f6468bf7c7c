/**
 * audit_events as the tests read it, with each read's lists wherever they are stored: in the row
 * (rows written before read sets) or in its read set (src/audit/insert.ts). Use in place of
 * `audit_events` in a FROM clause.
 */
export const AUDIT_EVENTS_WITH_LISTS = `(
  SELECT e.id, e.occurred_at, e.event_type, e.account_type, e.user_id, e.service_account_id, e.token_id,
         e.ip_address, e.user_agent, e.app_id, e.environment_id, e.secret_id, e.path, e.key_digest, e.version,
         e.metadata, e.read_set_id,
         COALESCE(e.secret_ids, rs.secret_ids) AS secret_ids, COALESCE(e.key_digests, rs.key_digests) AS key_digests,
         COALESCE(e.versions, rs.versions) AS versions, COALESCE(e.paths, rs.paths) AS paths
    FROM audit_events e LEFT JOIN audit_read_sets rs ON rs.id = e.read_set_id) AS audit_events`;
