import type { AuditEventInput, Caller, ManagementEventType } from "./events.js";

/** The account a management action was about (a grant's or a token's owner), as the log shows it. */
export interface AuditedAccount {
  type: "user" | "service_account";
  id: string;
}

export const auditedAccount = (a: { kind: "USER" | "SERVICE_ACCOUNT"; id: string }): AuditedAccount => ({
  type: a.kind === "USER" ? "user" : "service_account",
  id: a.id,
});

/**
 * An audit event for a management action by `caller`: actor, token id, IP and user agent from the
 * request; what was acted on in `fields` (app and environment ids in their columns, the rest in
 * metadata). Never a token, its hash or a secret value.
 */
export function managementEvent(
  eventType: ManagementEventType,
  caller: Caller,
  at: Date,
  fields: { appId?: string; environmentId?: string; metadata?: Record<string, unknown> } = {},
): AuditEventInput {
  return {
    eventType,
    occurredAt: at,
    principal: caller.principal,
    ipAddress: caller.meta.ipAddress,
    userAgent: caller.meta.userAgent,
    appId: fields.appId,
    environmentId: fields.environmentId,
    metadata: fields.metadata,
  };
}

/** The event of a system action (no caller): bootstrap, retention. */
export function systemEvent(eventType: ManagementEventType, at: Date, metadata: Record<string, unknown>): AuditEventInput {
  return { eventType, occurredAt: at, metadata };
}
