import type { AppRepository } from "../apps/repository.js";
import { NotFoundError } from "../errors.js";
import { encodeCursor, type Cursor, type LogOrder } from "./cursor.js";
import type { Clock } from "../clock.js";
import type { AuditSink, Caller } from "./events.js";
import type { ActorFilter, AuditLogRepository, LogRow } from "./log-repository.js";
import { managementEvent } from "./management-events.js";

/** A request for one page of the audit log, as the route validated it. */
export interface AuditLogRequest {
  appId?: string | undefined;
  /** An environment id, or a name within `appId`. */
  environment?: string | undefined;
  /** A user or service account id: the actor. */
  account?: string | undefined;
  actorType?: "user" | "service_account" | "system" | undefined;
  tokenId?: string | undefined;
  eventTypes?: EventTypes | undefined;
  /** Types left out, in the same form. */
  excludeEventTypes?: EventTypes | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  limit: number;
  order: LogOrder;
  cursor?: Cursor | undefined;
}

/** One event of the log. Never a secret value or a token: the tables hold none. */
export interface AuditLogEvent {
  id: string;
  type: string;
  timestamp: Date;
  actor: { type: "user" | "service_account" | "system"; id: string | null; tokenId: string | null };
  ipAddress: string | null;
  userAgent: string | null;
  appId: string | null;
  environmentId: string | null;
  secretId: string | null;
  path: string | null;
  keyDigest: string | null;
  version: number | null;
  /** Events about several secrets (a `secret.read`): each, in the order the request returned them. */
  secrets: { id: string | null; keyDigest: string | null; version: number | null; path: string | null }[] | null;
  leaseId: string | null;
  metadata: Record<string, unknown> | null;
}

export interface AuditLogPage {
  events: AuditLogEvent[];
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type EventTypes = { exact: string[]; prefixes: string[] };
const typeList = (t: EventTypes | undefined) => (t ? [...t.exact, ...t.prefixes.map((p) => `${p}*`)] : undefined);

/** What an `audit.read` event keeps of the request: the filter, never the cursor's content. */
function readFilter(r: AuditLogRequest): Record<string, unknown> {
  const f: Record<string, unknown> = {
    account: r.account,
    actor_type: r.actorType,
    token_id: r.tokenId,
    event_type: typeList(r.eventTypes),
    exclude_event_type: typeList(r.excludeEventTypes),
    since: r.since?.toISOString(),
    until: r.until?.toISOString(),
  };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
}

/**
 * The audit log read API: secret and management events (audit_events) and lease events in one
 * stream. Reading it is recorded too (`audit.read`: who read, with which filter, how many events),
 * so a look through the log, say for a token's use, leaves its own trace.
 */
export function createAuditLogService(deps: { log: AuditLogRepository; apps: Pick<AppRepository, "findEnvironmentByName">; audit: AuditSink; clock: Clock }) {
  async function environmentId(r: AuditLogRequest): Promise<string | undefined> {
    if (r.environment === undefined || UUID.test(r.environment)) return r.environment?.toLowerCase();
    // The route requires app_id with a name.
    const env = await deps.apps.findEnvironmentByName(r.appId!, r.environment);
    if (!env) throw new NotFoundError(`Environment '${r.environment}' not found in App ${r.appId}`);
    return env.id;
  }

  /** An account id alone is looked up, so the query uses the one column (and index) it can be in. */
  async function actor(r: AuditLogRequest): Promise<ActorFilter | undefined> {
    if (r.actorType === "system") return { type: "system" };
    if (r.actorType) return { type: r.actorType, id: r.account };
    if (r.account === undefined) return undefined;
    const kind = await deps.log.accountKind(r.account);
    return kind ? { type: kind, id: r.account } : { type: "any", id: r.account };
  }

  return {
    async list(caller: Caller, r: AuditLogRequest): Promise<AuditLogPage> {
      const envId = await environmentId(r);
      const rows = await deps.log.list({
        order: r.order,
        limit: r.limit + 1,
        after: r.cursor,
        appId: r.appId,
        environmentId: envId,
        actor: await actor(r),
        tokenId: r.tokenId,
        types: r.eventTypes,
        excludeTypes: r.excludeEventTypes,
        since: r.since,
        until: r.until,
      });
      const page = rows.slice(0, r.limit);
      const last = page.at(-1);
      const more = rows.length > r.limit && last !== undefined;
      deps.audit.record([
        managementEvent("audit.read", caller, deps.clock.now(), {
          appId: r.appId,
          environmentId: envId,
          metadata: { filter: readFilter(r), order: r.order, page: r.cursor ? "next" : "first", events: page.length },
        }),
      ]);
      return {
        events: page.map(toEvent),
        nextCursor: more ? encodeCursor({ order: r.order, micros: last.ts_us, source: last.src, id: last.id_text }) : null,
      };
    },
  };
}

export type AuditLogService = ReturnType<typeof createAuditLogService>;

function toEvent(r: LogRow): AuditLogEvent {
  const accountType = r.account_type === "user" || r.account_type === "service_account" ? r.account_type : "system";
  return {
    id: `${r.src}_${r.id_text}`,
    type: r.type,
    timestamp: r.ts,
    actor: { type: accountType, id: r.actor_id, tokenId: r.token_id },
    ipAddress: r.ip_address,
    userAgent: r.user_agent,
    appId: r.app_id,
    environmentId: r.environment_id,
    secretId: r.secret_id,
    path: r.path,
    keyDigest: r.key_digest,
    version: r.version,
    secrets: r.secret_ids
      ? r.secret_ids.map((id, i) => ({ id, keyDigest: r.key_digests?.[i] ?? null, version: r.versions?.[i] ?? null, path: r.paths?.[i] ?? null }))
      : null,
    leaseId: r.lease_id,
    metadata: r.metadata,
  };
}
