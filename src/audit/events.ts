import type { Principal } from "../auth/principal.js";

/**
 * Event types in the audit trail. Secret events mirror Phase's C/R/U/D SecretEvent types; the
 * management API records the others (src/audit/management-events.ts).
 */
export type AuditEventType =
  | "secret.read"
  | "secret.create"
  | "secret.update"
  | "secret.delete"
  | ManagementEventType
  | (string & {});

export type ManagementEventType =
  | "app.create"
  | "app.delete"
  | "environment.create"
  | "user.create"
  | "service_account.create"
  | "access.grant"
  | "access.revoke"
  | "token.create"
  | "token.revoke"
  | "owner.bootstrap"
  | "audit.prune"
  | "audit.read";

export interface AuditEventInput {
  eventType: AuditEventType;
  occurredAt: Date;
  principal?: Principal | undefined;
  ipAddress?: string | undefined;
  userAgent?: string | undefined;
  appId?: string | undefined;
  environmentId?: string | undefined;
  secretId?: string | undefined;
  path?: string | undefined;
  keyDigest?: string | undefined;
  version?: number | undefined;
  /** Events about several secrets (one `secret.read` per request): each secret, in order. */
  secrets?: AuditedSecret[] | undefined;
  /** Never put a secret value, credential or token here. */
  metadata?: Record<string, unknown> | undefined;
}

/** One secret named by an event that lists several; stored as the row's parallel arrays. */
export interface AuditedSecret {
  id: string;
  keyDigest: string;
  version: number;
  path: string;
}

/** Where services send audit events. Recording never blocks on the database. */
export interface AuditSink {
  record(events: AuditEventInput[]): void;
  /** Writes everything buffered so far. */
  flush(): Promise<void>;
  /** Flushes and stops the timer; later records are written immediately. */
  close(): Promise<void>;
}

/** Who made a request, for audit rows: Phase's IP order (X-Real-IP, first X-Forwarded-For, peer). */
export interface RequestMeta {
  ipAddress: string;
  userAgent: string;
}

/** Who is acting, and from where: what a service needs to audit a request. */
export interface Caller {
  principal: Principal;
  meta: RequestMeta;
}
