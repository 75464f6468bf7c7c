import type { LeaseRecord } from "../leases/types.js";
import { formatDuration } from "./durations.js";
import type { IssuedCreds } from "./creds.js";
import { wireLeaseId } from "./leases.js";
import type { EngineRecord, RoleRecord } from "./repository.js";
import { boundsOf } from "./sources.js";

/** JSON shapes of /v1/dynamic/ (snake_case, durations as "1h"-style strings). Never root credentials. */
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toEngine(e: EngineRecord) {
  return {
    name: e.name,
    type: e.type,
    config: { plugin: e.plugin, ...e.config, ...(e.rootCredentialsPath ? { root_credentials_path: e.rootCredentialsPath } : {}) },
    /** Where the root credentials come from: "inline" (stored sealed), "path", or "none". */
    root_credentials_source: e.rootCredentialsPath ? "path" : e.rootCipher ? "inline" : "none",
    default_ttl: formatDuration(e.defaultTtl),
    max_ttl: formatDuration(e.maxTtl),
    root_rotated_at: iso(e.rootRotatedAt),
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
  };
}

/** TTLs are the effective ones (the engine's where the role sets none). */
export function toRole(engine: EngineRecord, r: RoleRecord) {
  const b = boundsOf(engine, r);
  return {
    name: r.name,
    engine: engine.name,
    ...r.config,
    default_ttl: formatDuration(b.defaultTtl),
    max_ttl: formatDuration(b.maxTtl),
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
  };
}

export function toCreds(c: IssuedCreds) {
  return {
    lease_id: wireLeaseId(c.lease.id),
    data: c.data,
    lease_duration: formatDuration(c.lease.ttlSeconds),
    renewable: true,
    expires_at: iso(c.lease.expiresAt),
  };
}

/** A lease without its credential. lease_duration: from the last issue or renewal to expiry; ttl: seconds left. */
export function toLease(l: LeaseRecord, engineName: string | null, now: Date) {
  const from = (l.renewedAt ?? l.createdAt).getTime();
  return {
    lease_id: wireLeaseId(l.id),
    engine: engineName,
    role: l.engineRole,
    status: l.status.toLowerCase(),
    renewable: l.status === "ACTIVE" && l.expiresAt > now,
    lease_duration: formatDuration(Math.max(0, Math.round((l.expiresAt.getTime() - from) / 1000))),
    ttl: Math.max(0, Math.floor((l.expiresAt.getTime() - now.getTime()) / 1000)),
    issued_at: iso(l.createdAt),
    expires_at: iso(l.expiresAt),
    last_renewed_at: iso(l.renewedAt),
    revoked_at: iso(l.revokedAt),
    revoke_reason: l.revokeReason,
    username: l.upstreamIdentity,
    metadata: l.metadata ?? {},
    owner: l.ownerUserId ? { type: "user", id: l.ownerUserId } : l.ownerServiceAccountId ? { type: "service_account", id: l.ownerServiceAccountId } : null,
    /** Set when the lease came from a Phase dynamic secret backed by the engine. */
    phase_secret_id: l.dynamicSecretId,
    last_error: l.lastError,
  };
}
