import type { EnvironmentRecord } from "../apps/repository.js";
import type { AuditEventInput, AuditEventType } from "../audit/events.js";
import type { Bytes } from "../crypto/aead.js";
import { createReferenceResolver, type ReferenceResolver, type ReferenceSources } from "./references.js";
import type { SecretRow } from "./repository.js";
import type { OpenedSecret } from "./sealing.js";
import type { Caller, OverrideView, SecretType, SecretView } from "./types.js";

/** Turns decrypted secrets into API views, resolving references in values and override values. */
export async function toViews(env: EnvironmentRecord, secrets: OpenedSecret[], sources: ReferenceSources): Promise<SecretView[]> {
  // Without `${` anywhere there is nothing to resolve (the resolver returns such values as they are).
  if (!secrets.some(hasReference)) return secrets.map((s) => view(env, s, s.value, s.override));
  const refs = createReferenceResolver(sources);
  for (const s of secrets) refs.prime(env.id, s.row.path, s.row.keyDigest, s.value);
  const views: SecretView[] = [];
  // One at a time: later secrets reuse what earlier ones loaded into the resolver's caches.
  for (const s of secrets) views.push(await toView(env, s, refs));
  return views;
}

async function toView(env: EnvironmentRecord, s: OpenedSecret, refs: ReferenceResolver): Promise<SecretView> {
  const r = s.row;
  const resolve = (value: string) => refs.resolve(value, env, r.path, r.keyDigest);
  return view(env, s, await resolve(s.value), s.override ? { ...s.override, value: await resolve(s.override.value) } : null);
}

const hasReference = (s: OpenedSecret) => s.value.includes("${") || (s.override !== null && s.override.value.includes("${"));

function view(env: EnvironmentRecord, s: OpenedSecret, value: string, override: OverrideView | null): SecretView {
  const r = s.row;
  return {
    id: r.id,
    key: s.key,
    value,
    comment: s.comment,
    tags: r.tags,
    override,
    type: r.type,
    path: r.path,
    keyDigest: r.keyDigest,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    environmentId: env.id,
    folderId: r.folderId,
  };
}

/** A fresh in-memory row (no override columns) for secrets this request creates. */
export function newRow(fields: {
  id: string;
  path: string;
  keyDigest: string;
  keyCipher: Bytes;
  valueCipher: Bytes;
  commentCipher: Bytes;
  type: SecretType;
  at: Date;
}): SecretRow {
  const { at, ...rest } = fields;
  return {
    ...rest,
    folderId: null,
    version: 1,
    createdAt: at,
    updatedAt: at,
    tags: [],
    overrideId: null,
    overrideCipher: null,
    overrideActive: null,
    overrideCreatedAt: null,
    overrideUpdatedAt: null,
  };
}

/** Audit event for one secret; never carries a value. */
export function secretEvent(
  eventType: AuditEventType,
  caller: Caller,
  env: EnvironmentRecord,
  row: Pick<SecretRow, "id" | "path" | "keyDigest" | "version">,
  at: Date,
  metadata?: Record<string, unknown>,
): AuditEventInput {
  return {
    eventType,
    occurredAt: at,
    principal: caller.principal,
    ipAddress: caller.meta.ipAddress,
    userAgent: caller.meta.userAgent,
    appId: env.appId,
    environmentId: env.id,
    secretId: row.id,
    path: row.path,
    keyDigest: row.keyDigest,
    version: row.version,
    metadata,
  };
}

/** One `secret.read` event for a request, listing every secret it returned, in order; never a value. */
export function readEvent(caller: Caller, env: EnvironmentRecord, rows: Pick<SecretRow, "id" | "path" | "keyDigest" | "version">[], at: Date): AuditEventInput {
  return {
    eventType: "secret.read",
    occurredAt: at,
    principal: caller.principal,
    ipAddress: caller.meta.ipAddress,
    userAgent: caller.meta.userAgent,
    appId: env.appId,
    environmentId: env.id,
    secrets: rows.map((r) => ({ id: r.id, keyDigest: r.keyDigest, version: r.version, path: r.path })),
  };
}

/** GET's order: path, then creation, then key (stable across calls; the database gives no order). */
export function byPathThenCreation(a: OpenedSecret, b: OpenedSecret): number {
  return (
    cmp(a.row.path, b.row.path) ||
    a.row.createdAt.getTime() - b.row.createdAt.getTime() ||
    cmp(a.key, b.key) ||
    cmp(a.row.id, b.row.id)
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
