import { z } from "zod";
import { decodeCursor } from "../audit/cursor.js";
import type { AuditLogEvent, AuditLogPage } from "../audit/log-service.js";

/**
 * Query and response schemas of GET /v1/audit/events. Messages follow the error handler's prefix,
 * e.g. `Invalid querystring field 'limit': must be a whole number from 1 to 1000`. The query is
 * strict: a misspelt filter is a 400, never a silently unfiltered answer.
 */

export const MAX_AUDIT_PAGE = 1_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_TYPE = /^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$/;

/** A query parameter given once (a repeated one arrives as an array). */
const param = (hint: string) =>
  z.string({ error: (iss) => (Array.isArray(iss.input) ? "must be given once" : hint) });

const uuid = param("must be a UUID").regex(UUID, { error: "must be a UUID" }).transform((v) => v.toLowerCase());

const instant = (name: string) =>
  param(`must be an ISO 8601 date or date-time`)
    .refine((v) => z.iso.datetime({ offset: true }).safeParse(v).success || z.iso.date().safeParse(v).success, {
      error: `must be an ISO 8601 date-time with a zone (2026-01-31T12:00:00Z) or a date (2026-01-31)`,
    })
    .transform((v) => new Date(v))
    .refine((d) => !Number.isNaN(d.getTime()), { error: `${name} is not a valid date` });

/** Comma-separated (or repeated) event types; `prefix.*` matches every type under the prefix. */
const eventTypes = z
  .union([z.string(), z.array(z.string())], { error: "must be a comma-separated list of event types" })
  .transform((v) => (Array.isArray(v) ? v.join(",") : v).split(",").map((t) => t.trim()).filter((t) => t !== ""))
  .refine((types) => types.length > 0, { error: "must name at least one event type" })
  .refine((types) => types.length <= 50, { error: "must name at most 50 event types" })
  .refine((types) => types.every((t) => t.length <= 64 && EVENT_TYPE.test(t)), {
    error: "must be event types such as secret.read or lease.* (lowercase letters, digits, '_' and '.')",
  })
  .transform((types) => ({
    exact: types.filter((t) => !t.endsWith(".*")),
    prefixes: types.filter((t) => t.endsWith(".*")).map((t) => t.slice(0, -1)),
  }));

const LIMIT_HINT = `must be a whole number from 1 to ${MAX_AUDIT_PAGE}`;

export const auditQuery = z
  .strictObject(
    {
      app_id: uuid.optional(),
      /** An environment id, or its name together with app_id. */
      environment: param("must be an environment id or name").min(1, { error: "must not be empty" }).max(64, { error: "must be at most 64 characters" }).optional(),
      /** The acting user or service account. */
      account: uuid.optional(),
      actor_id: uuid.optional(),
      actor_type: param("must be one of user, service_account, system")
        .pipe(z.enum(["user", "service_account", "system"], { error: "must be one of user, service_account, system" }))
        .optional(),
      token_id: uuid.optional(),
      event_type: eventTypes.optional(),
      /** The same syntax: event types left out (e.g. audit.read, the log's own reads). */
      exclude_event_type: eventTypes.optional(),
      since: instant("since").optional(),
      until: instant("until").optional(),
      limit: param(LIMIT_HINT)
        .regex(/^\d{1,7}$/, { error: LIMIT_HINT })
        .transform(Number)
        .refine((n) => n >= 1 && n <= MAX_AUDIT_PAGE, { error: LIMIT_HINT })
        .default(100),
      order: param("must be desc or asc").pipe(z.enum(["desc", "asc"], { error: "must be desc or asc" })).default("desc"),
      cursor: param("must be the next_cursor of a previous page")
        .transform((v, ctx) => {
          const c = decodeCursor(v);
          if (c) return c;
          ctx.addIssue({ code: "custom", message: "must be the next_cursor of a previous page, unchanged" });
          return z.NEVER;
        })
        .optional(),
    },
    {
      error: (iss) =>
        iss.code === "unrecognized_keys" ? `unknown parameter${iss.keys.length > 1 ? "s" : ""} ${iss.keys.map((k) => `'${k}'`).join(", ")}` : undefined,
    },
  )
  .superRefine((q, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (q.environment !== undefined && !UUID.test(q.environment) && q.app_id === undefined) {
      issue("environment", "an environment name needs app_id (or pass the environment's id)");
    }
    if (q.account !== undefined && q.actor_id !== undefined && q.account !== q.actor_id) issue("actor_id", "must equal account when both are given");
    if (q.actor_type === "system" && (q.account ?? q.actor_id) !== undefined) issue("actor_type", "system has no account: leave out account");
    if (q.since && q.until && q.until.getTime() <= q.since.getTime()) issue("until", "must be later than since");
    if (q.cursor && q.cursor.order !== q.order) issue("cursor", `was issued for order=${q.cursor.order}: repeat the query's order`);
  });

const nullableUuid = z.string().nullable();
const nullableText = z.string().nullable();

export const auditEventResponse = z.object({
  id: z.string(),
  type: z.string(),
  timestamp: z.iso.datetime(),
  actor: z.object({ type: z.enum(["user", "service_account", "system"]), id: nullableUuid, token_id: nullableUuid }),
  ip: nullableText,
  user_agent: nullableText,
  app_id: nullableUuid,
  environment_id: nullableUuid,
  secret_id: nullableUuid,
  path: nullableText,
  key_digest: nullableText,
  version: z.number().int().nullable(),
  secrets: z
    .array(z.object({ id: nullableUuid, key_digest: nullableText, version: z.number().int().nullable(), path: nullableText }))
    .nullable(),
  lease_id: nullableText,
  metadata: z.record(z.string(), z.unknown()).nullable(),
});

export const auditPageResponse = z.object({ events: z.array(auditEventResponse), next_cursor: z.string().nullable() });

function toWireEvent(e: AuditLogEvent): z.input<typeof auditEventResponse> {
  return {
    id: e.id,
    type: e.type,
    timestamp: e.timestamp.toISOString(),
    actor: { type: e.actor.type, id: e.actor.id, token_id: e.actor.tokenId },
    ip: e.ipAddress,
    user_agent: e.userAgent,
    app_id: e.appId,
    environment_id: e.environmentId,
    secret_id: e.secretId,
    path: e.path,
    key_digest: e.keyDigest,
    version: e.version,
    secrets: e.secrets?.map((s) => ({ id: s.id, key_digest: s.keyDigest, version: s.version, path: s.path })) ?? null,
    lease_id: e.leaseId,
    metadata: e.metadata,
  };
}

export const toAuditPage = (p: AuditLogPage): z.input<typeof auditPageResponse> => ({
  events: p.events.map(toWireEvent),
  next_cursor: p.nextCursor,
});
