import { createHash } from "node:crypto";
import type { AuditedSecret, AuditEventInput } from "./events.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT4_MAX = 2_147_483_647;
/** Client-controlled text (user agent, paths) is cut to this length before it is stored. */
const TEXT_MAX = 1_024;

/**
 * The secrets one read returned, as audit_read_sets stores them: `id` (hex) is the SHA-256 of the
 * lists, so every read returning the same secrets at the same versions names the same set.
 */
export interface ReadSetRow {
  id: string;
  secretIds: (string | null)[];
  keyDigests: (string | null)[];
  versions: (number | null)[];
  paths: (string | null)[];
}

/**
 * The audit_events row for an event; an event listing secrets names its read set (`readSetId`)
 * and carries it in `readSet` for the insert to store (src/audit/insert.ts). A batch is one
 * INSERT, so one malformed event would fail the whole batch on every retry and block the trail:
 * values the columns would reject (a non-UUID id, an invalid date, a version outside int4) are
 * stored as NULL and kept, as text, under `metadata.invalid`, so the row is still written and the
 * oddity still visible.
 */
export function toAuditRow(e: AuditEventInput) {
  const invalid: Record<string, string> = {};
  const uuid = (field: string, v: string | undefined): string | null => {
    if (v === undefined || v === null) return null;
    if (UUID.test(v)) return v;
    invalid[field] = clip(String(v));
    return null;
  };
  const p = e.principal;
  const validDate = e.occurredAt instanceof Date && !Number.isNaN(e.occurredAt.getTime());
  if (!validDate) invalid["occurredAt"] = clip(String(e.occurredAt));
  const versionOk = e.version === undefined || e.version === null || isInt4(e.version);
  if (!versionOk) invalid["version"] = clip(String(e.version));
  const list = e.secrets ? secretLists(e.secrets, invalid) : null;

  const row = {
    occurredAt: validDate ? e.occurredAt : new Date(),
    eventType: clip(e.eventType),
    accountType: p ? p.kind : null,
    userId: p?.kind === "user" ? uuid("userId", p.id) : null,
    serviceAccountId: p?.kind === "service_account" ? uuid("serviceAccountId", p.id) : null,
    tokenId: p ? uuid("tokenId", p.tokenId) : null,
    ipAddress: text(e.ipAddress),
    userAgent: text(e.userAgent),
    appId: uuid("appId", e.appId),
    environmentId: uuid("environmentId", e.environmentId),
    secretId: uuid("secretId", e.secretId),
    path: text(e.path),
    keyDigest: text(e.keyDigest),
    version: versionOk ? (e.version ?? null) : null,
    readSetId: list?.id ?? null,
  };
  const hasInvalid = Object.keys(invalid).length > 0;
  const metadata = e.metadata || hasInvalid ? { metadata: cleanJson({ ...(e.metadata ?? {}), ...(hasInvalid ? { invalid } : {}) }) as object } : {};
  return { ...row, ...metadata, ...(list ? { readSet: list } : {}) };
}

export type AuditRow = ReturnType<typeof toAuditRow>;

const isInt4 = (v: number) => Number.isInteger(v) && Math.abs(v) <= INT4_MAX;

/** The parallel arrays of an event's secrets; an element a column would reject is NULL there and kept under `invalid`. */
function secretLists(secrets: AuditedSecret[], invalid: Record<string, string>): ReadSetRow {
  const ids: (string | null)[] = [];
  const digests: (string | null)[] = [];
  const versions: (number | null)[] = [];
  const paths: (string | null)[] = [];
  secrets.forEach((s, i) => {
    const idOk = typeof s.id === "string" && UUID.test(s.id);
    if (!idOk) invalid[`secretIds.${i}`] = clip(String(s.id));
    const versionOk = typeof s.version === "number" && isInt4(s.version);
    if (!versionOk) invalid[`versions.${i}`] = clip(String(s.version));
    ids.push(idOk ? s.id : null);
    digests.push(text(s.keyDigest));
    versions.push(versionOk ? s.version : null);
    paths.push(text(s.path));
  });
  const id = createHash("sha256").update(JSON.stringify([ids, digests, versions, paths])).digest("hex");
  return { id, secretIds: ids, keyDigests: digests, versions, paths };
}

function text(v: string | undefined | null): string | null {
  return v === undefined || v === null ? null : clip(String(v));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

/**
 * Postgres text refuses NUL characters, and its JSON input (the batch travels as JSON) refuses
 * unpaired surrogates: both are removed (a surrogate becomes U+FFFD, as UTF-8 encoding would make
 * it).
 */
function clean(v: string): string {
  const noNul = v.includes("\u0000") ? v.replaceAll("\u0000", "") : v;
  return LONE_SURROGATE.test(noNul) ? noNul.replace(LONE_SURROGATES, "\uFFFD") : noNul;
}

/** Client-supplied text: cleaned and cut (a surrogate pair the cut splits is replaced too). */
function clip(v: string): string {
  const noNul = v.includes("\u0000") ? v.replaceAll("\u0000", "") : v;
  return clean(noNul.length > TEXT_MAX ? noNul.slice(0, TEXT_MAX) : noNul);
}

/** Metadata as jsonb takes it: every string and key cleaned, nothing cut; values with toJSON (dates) as they are. */
function cleanJson(v: unknown): unknown {
  if (typeof v === "string") return clean(v);
  if (Array.isArray(v)) return v.map(cleanJson);
  if (!v || typeof v !== "object" || typeof (v as { toJSON?: unknown }).toJSON === "function") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [clean(k), cleanJson(x)]));
}
