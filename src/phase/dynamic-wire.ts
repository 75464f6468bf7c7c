import type { DynamicSecretView } from "../dynamic/sealing.js";
import type { LeaseStatus } from "../leases/types.js";
import type { LeaseOwner, LeaseView } from "../leases/view.js";
import { ROLE_NAMES } from "../management/schemas.js";
import { phaseTimestamp } from "./secrets-wire.js";

/**
 * Phase's dynamic-secret and lease objects (ee/integrations/secrets/dynamic/serializers.py after
 * the camelCase renderer), field for field and in its order. Built explicitly so nothing
 * unlisted reaches the wire: definitions carry no `config` at all (not even the non-secret
 * fields: a connection URL may embed a password), leases never carry their sealed state.
 */

export interface PhaseCredential {
  key: string;
  value: string;
}

export type PhaseOwner =
  | {
      type: "organisation_member";
      data: { id: string; username: string | null; fullName: string | null; email: string; role: PhaseRole | null; createdAt: string | null; updatedAt: string | null };
    }
  | { type: "service_account"; data: { id: string; name: string; role: PhaseRole | null } };

interface PhaseRole {
  id: string;
  name: string;
}

export interface PhaseLease {
  id: string;
  name: string;
  description: string;
  secret: string | null;
  ttl: string;
  status: string;
  owner: PhaseOwner | null;
  credentials: PhaseCredential[];
  createdAt: string;
  renewedAt: string | null;
  expiresAt: string;
  revokedAt: string | null;
  deletedAt: null;
}

export interface PhaseDynamicSecret {
  id: string;
  name: string;
  type: "dynamic";
  description: string;
  environment: string;
  folder: string | null;
  path: string;
  defaultTtl: string;
  maxTtl: string;
  provider: string;
  keyMap: { id: string; keyName: string; keyDigest: string; masked: boolean }[];
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  lease: PhaseLease | null;
}

/** Django's duration_string for whole seconds: `HH:MM:SS`, prefixed by `D ` when there are days. */
export function durationString(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86_400);
  const rest = totalSeconds - days * 86_400;
  const pad = (n: number) => String(n).padStart(2, "0");
  const hms = `${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`;
  return days ? `${days} ${hms}` : hms;
}

/**
 * Phase's statuses are active, revoked and expired. Our lifecycle has transitional and failure
 * states Phase lacks; they are shown lower-cased (creating, revoking, revoke_failed,
 * create_failed): Phase's clients print the raw JSON, and hiding a failed revocation behind
 * "active" or "revoked" would mislead whoever reads it.
 */
export function phaseLeaseStatus(s: LeaseStatus): string {
  return s.toLowerCase();
}

const isoOrNull = (d: Date | null | undefined) => (d ? phaseTimestamp(d) : null);

/**
 * Phase's owner serializers. Our roles are fixed (no role table), so a role's id is its stable
 * key (`owner`, `admin`, `developer`); service accounts have no role here (their access is per
 * environment), hence `role: null`.
 */
export function toPhaseOwner(o: LeaseOwner | null): PhaseOwner | null {
  if (!o) return null;
  if (o.type === "service_account") return { type: "service_account", data: { id: o.id, name: o.name, role: null } };
  const name = ROLE_NAMES[o.role as keyof typeof ROLE_NAMES];
  return {
    type: "organisation_member",
    data: {
      id: o.id,
      username: o.username,
      fullName: o.fullName,
      email: o.email,
      role: name ? { id: o.role.toLowerCase(), name } : null,
      createdAt: isoOrNull(o.createdAt),
      updatedAt: isoOrNull(o.updatedAt),
    },
  };
}

/** A lease; `credentials` only for the one created in this request (lists send `[]`, as Phase). */
export function toPhaseLease(l: LeaseView, credentials: PhaseCredential[] = []): PhaseLease {
  return {
    id: l.id,
    name: l.name,
    description: l.description,
    secret: l.secretId,
    ttl: durationString(l.ttl),
    status: phaseLeaseStatus(l.status),
    owner: toPhaseOwner(l.owner),
    credentials: credentials.map((c) => ({ key: c.key, value: c.value })),
    createdAt: phaseTimestamp(l.createdAt),
    renewedAt: isoOrNull(l.renewedAt),
    expiresAt: phaseTimestamp(l.expiresAt),
    revokedAt: isoOrNull(l.revokedAt),
    deletedAt: null,
  };
}

export function toPhaseDynamicSecret(d: DynamicSecretView, lease: PhaseLease | null = null): PhaseDynamicSecret {
  return {
    id: d.id,
    name: d.name,
    type: "dynamic",
    description: d.description,
    environment: d.environmentId,
    folder: d.folderId,
    path: d.path,
    defaultTtl: durationString(d.defaultTtl),
    maxTtl: durationString(d.maxTtl),
    provider: d.provider,
    keyMap: d.keyMap.map((k) => ({ id: k.id, keyName: k.keyName, keyDigest: k.keyDigest, masked: k.masked })),
    createdAt: phaseTimestamp(d.createdAt),
    updatedAt: phaseTimestamp(d.updatedAt),
    deletedAt: isoOrNull(d.deletedAt),
    lease,
  };
}
