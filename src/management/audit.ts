import type { AuditLogService } from "../audit/log-service.js";
import type { App } from "../http/types.js";
import { auditPageResponse, auditQuery, toAuditPage } from "./audit-schemas.js";
import { callerOf } from "./caller.js";
import { errors } from "./errors.js";
import { withAndWithoutSlash } from "./slash.js";

/**
 * GET /v1/audit/events: the audit log (secret, management and lease events), newest first unless
 * order=asc, filtered by the query, a page at a time (`next_cursor` until null). Each read is
 * recorded as an `audit.read` event.
 */
export function registerAuditRoutes(app: App, log: AuditLogService, trustProxy: boolean): void {
  for (const url of withAndWithoutSlash("/v1/audit/events/")) {
    app.get(url, { schema: { querystring: auditQuery, response: { 200: auditPageResponse, ...errors(400, 404) } } }, async (req) => {
      const q = req.query;
      const page = await log.list(callerOf(req, trustProxy), {
        appId: q.app_id,
        environment: q.environment,
        account: q.account ?? q.actor_id,
        actorType: q.actor_type,
        tokenId: q.token_id,
        eventTypes: q.event_type,
        excludeEventTypes: q.exclude_event_type,
        since: q.since,
        until: q.until,
        limit: q.limit,
        order: q.order,
        cursor: q.cursor,
      });
      return toAuditPage(page);
    });
  }
}
