import type { Database } from "../db/database.js";
import type { EventSource, LogOrder, LogPosition } from "./cursor.js";

export type ActorFilter =
  | { type: "user" | "service_account"; id?: string | undefined }
  | { type: "system" }
  /** An id found in neither users nor service_accounts (e.g. a typo): matched against both columns. */
  | { type: "any"; id: string };

export interface LogQuery {
  order: LogOrder;
  limit: number;
  /** Rows strictly after this position, in `order`. */
  after?: LogPosition | undefined;
  appId?: string | undefined;
  environmentId?: string | undefined;
  actor?: ActorFilter | undefined;
  tokenId?: string | undefined;
  /** Exact event types, and prefixes (`lease.` from `lease.*`). */
  types?: { exact: string[]; prefixes: string[] } | undefined;
  /** Event types left out, in the same form. */
  excludeTypes?: { exact: string[]; prefixes: string[] } | undefined;
  /** Inclusive. */
  since?: Date | undefined;
  /** Exclusive. */
  until?: Date | undefined;
}

/**
 * One event as read from either table, columns named for the wire mapping in ./log-service.ts. A
 * read's lists come from its read set, or from the row itself when written before read sets.
 */
export interface LogRow extends Record<string, unknown> {
  src: EventSource;
  /** The row id (bigint) as text. */
  id_text: string;
  ts: Date;
  ts_us: string;
  type: string;
  account_type: string | null;
  actor_id: string | null;
  token_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  app_id: string | null;
  environment_id: string | null;
  secret_id: string | null;
  path: string | null;
  key_digest: string | null;
  version: number | null;
  secret_ids: (string | null)[] | null;
  key_digests: (string | null)[] | null;
  versions: (number | null)[] | null;
  paths: (string | null)[] | null;
  lease_id: string | null;
  metadata: Record<string, unknown> | null;
}

const AUDIT_SELECT = `
  SELECT 'ae' AS src, e.id, e.occurred_at AS ts, e.event_type AS type, e.account_type,
         COALESCE(e.user_id, e.service_account_id) AS actor_id, e.token_id, e.ip_address, e.user_agent,
         e.app_id, e.environment_id, e.secret_id, e.path, e.key_digest, e.version,
         COALESCE(e.secret_ids, rs.secret_ids) AS secret_ids, COALESCE(e.key_digests, rs.key_digests) AS key_digests,
         COALESCE(e.versions, rs.versions) AS versions, COALESCE(e.paths, rs.paths) AS paths,
         e.metadata ->> 'leaseId' AS lease_id, e.metadata
    FROM audit_events e
    LEFT JOIN audit_read_sets rs ON rs.id = e.read_set_id`;

// Lease events carry no token id. App and environment come from the lease (its environment may be
// gone: then app_id is null), the path from its definition.
const LEASE_SELECT = `
  SELECT 'le' AS src, le.id, le.created_at AS ts, 'lease.' || le.event_type AS type,
         CASE WHEN le.user_id IS NOT NULL THEN 'user' WHEN le.service_account_id IS NOT NULL THEN 'service_account' END AS account_type,
         COALESCE(le.user_id, le.service_account_id) AS actor_id, NULL::uuid AS token_id, le.ip_address, le.user_agent,
         env.app_id, l.environment_id, l.dynamic_secret_id AS secret_id, ds.path, NULL::text AS key_digest, NULL::int AS version,
         NULL::uuid[] AS secret_ids, NULL::text[] AS key_digests, NULL::int[] AS versions, NULL::text[] AS paths,
         le.lease_id::text AS lease_id, le.metadata
    FROM lease_events le
    JOIN leases l ON l.id = le.lease_id
    LEFT JOIN environments env ON env.id = l.environment_id
    LEFT JOIN dynamic_secrets ds ON ds.id = l.dynamic_secret_id`;

interface Columns {
  source: EventSource;
  ts: string;
  id: string;
  type: string;
  app: string;
  env: string;
  user: string;
  sa: string;
}

const AUDIT: Columns = { source: "ae", ts: "e.occurred_at", id: "e.id", type: "e.event_type", app: "e.app_id", env: "e.environment_id", user: "e.user_id", sa: "e.service_account_id" };
const LEASE: Columns = { source: "le", ts: "le.created_at", id: "le.id", type: "('lease.' || le.event_type)", app: "env.app_id", env: "l.environment_id", user: "le.user_id", sa: "le.service_account_id" };

const LEASE_PREFIX = "lease.";
const likePrefix = (p: string) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Reads the audit log: audit_events and lease_events as one stream in a total order (time, table,
 * row id), newest first or oldest first, `limit` rows after a position. Each table is read by
 * its own indexed, limited query and the two are merged: a page costs two index scans of at most
 * `limit` rows, however long the log.
 */
export function createAuditLogRepository(db: Pick<Database, "query">) {
  return {
    async list(q: LogQuery): Promise<LogRow[]> {
      const params: unknown[] = [];
      const p = (v: unknown) => (params.push(v), `$${params.length}`);
      const parts = [part(AUDIT_SELECT, AUDIT, q, p)];
      if (leaseEventsCanMatch(q)) parts.push(part(LEASE_SELECT, LEASE, q, p));
      const dir = q.order === "desc" ? "DESC" : "ASC";
      const sql = `
        SELECT x.*, (extract(epoch FROM x.ts) * 1000000)::int8::text AS ts_us, x.id::text AS id_text
          FROM (${parts.map((s) => `(${s})`).join(" UNION ALL ")}) x
         ORDER BY x.ts ${dir}, x.src ${dir}, x.id ${dir}
         LIMIT ${p(q.limit)}`;
      return db.query<LogRow>(sql, params);
    },

    /** Which kind of account an id names: "user", "service_account", or null (neither, or not a uuid). */
    async accountKind(id: string): Promise<"user" | "service_account" | null> {
      const rows = await db.query<{ kind: "user" | "service_account" }>(
        `SELECT 'user' AS kind FROM users WHERE id = $1::uuid
         UNION ALL SELECT 'service_account' FROM service_accounts WHERE id = $1::uuid LIMIT 1`,
        [id],
      );
      return rows[0]?.kind ?? null;
    },
  };
}

export type AuditLogRepository = ReturnType<typeof createAuditLogRepository>;

/** Lease events have no token, and their types all start with `lease.`. */
function leaseEventsCanMatch(q: LogQuery): boolean {
  if (q.tokenId !== undefined) return false;
  if (!q.types) return true;
  return (
    q.types.exact.some((t) => t.startsWith(LEASE_PREFIX)) ||
    q.types.prefixes.some((pre) => pre.startsWith(LEASE_PREFIX) || LEASE_PREFIX.startsWith(pre))
  );
}

/** One table's limited, ordered query with every filter as a parameter. */
function part(select: string, c: Columns, q: LogQuery, p: (v: unknown) => string): string {
  const where: string[] = [];
  if (q.appId !== undefined) where.push(`${c.app} = ${p(q.appId)}::uuid`);
  if (q.environmentId !== undefined) where.push(`${c.env} = ${p(q.environmentId)}::uuid`);
  if (q.tokenId !== undefined) where.push(`e.token_id = ${p(q.tokenId)}::uuid`);
  if (q.actor) where.push(actorClause(c, q.actor, p));
  if (q.types) where.push(typeClause(c, q.types, p));
  if (q.excludeTypes) where.push(`NOT ${typeClause(c, q.excludeTypes, p)}`);
  if (q.since) where.push(`${c.ts} >= ${p(q.since)}::timestamptz`);
  if (q.until) where.push(`${c.ts} < ${p(q.until)}::timestamptz`);
  if (q.after) where.push(afterClause(c, q.order, q.after, p));
  const dir = q.order === "desc" ? "DESC" : "ASC";
  return `${select}${where.length ? `\n WHERE ${where.join("\n   AND ")}` : ""}
   ORDER BY ${c.ts} ${dir}, ${c.id} ${dir} LIMIT ${p(q.limit)}`;
}

/** Does the row's type match one of the exact types or prefixes? */
function typeClause(c: Columns, t: { exact: string[]; prefixes: string[] }, p: (v: unknown) => string): string {
  const alternatives: string[] = [];
  if (t.exact.length > 0) alternatives.push(`${c.type} = ANY(${p(t.exact)}::text[])`);
  if (t.prefixes.length > 0) alternatives.push(`${c.type} LIKE ANY(${p(t.prefixes.map(likePrefix))}::text[])`);
  return `(${alternatives.join(" OR ")})`;
}

function actorClause(c: Columns, a: ActorFilter, p: (v: unknown) => string): string {
  switch (a.type) {
    case "system":
      return `${c.user} IS NULL AND ${c.sa} IS NULL`;
    case "any": {
      const id = p(a.id);
      return `(${c.user} = ${id}::uuid OR ${c.sa} = ${id}::uuid)`;
    }
    default: {
      const col = a.type === "user" ? c.user : c.sa;
      return a.id === undefined ? `${col} IS NOT NULL` : `${col} = ${p(a.id)}::uuid`;
    }
  }
}

/**
 * Rows after `pos` in the order (time, table, id), for one table. At the cursor's instant, the
 * other table's rows are all before or all after it, depending on which table sorts first there.
 */
function afterClause(c: Columns, order: LogOrder, pos: LogPosition, p: (v: unknown) => string): string {
  const at = `(timestamptz 'epoch' + ${p(pos.micros)}::int8 * interval '1 microsecond')`;
  const cmp = order === "desc" ? "<" : ">";
  if (c.source === pos.source) return `(${c.ts}, ${c.id}) ${cmp} (${at}, ${p(pos.id)}::int8)`;
  // desc: "le" rows come before "ae" rows at one instant; asc: after.
  const thisTableFirst = (order === "desc") === (c.source === "le");
  return thisTableFirst ? `${c.ts} ${cmp} ${at}` : `${c.ts} ${cmp}= ${at}`;
}
