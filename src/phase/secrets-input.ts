import { BadRequestError } from "../errors.js";
import { phaseFlag } from "../http/query.js";
import { pyRepr } from "../secrets/python-repr.js";
import {
  SECRET_TYPES,
  type CreateSecretInput,
  type ListFilter,
  type OverrideInput,
  type SecretType,
  type UpdateSecretInput,
} from "../secrets/types.js";
import { isObject } from "./body.js";

/**
 * Phase's request validation for /v1/secrets/, with its exact messages and order (each entry is
 * checked in full before the next). Values Phase would ignore are ignored here too (a client `id`
 * on create, unknown fields); a `null` optional field counts as absent.
 */
const bad = (message: string) => new BadRequestError(message);

function secretsList(body: Record<string, unknown>, message: string): unknown[] {
  const list = body["secrets"];
  if (!Array.isArray(list) || list.length === 0) throw bad(message);
  return list;
}

function present(entry: Record<string, unknown>, field: string): boolean {
  return entry[field] !== undefined && entry[field] !== null;
}

function parseType(entry: Record<string, unknown>): SecretType | undefined {
  if (!present(entry, "type")) return undefined;
  const type = entry["type"];
  if (typeof type !== "string" || !SECRET_TYPES.includes(type as SecretType)) {
    throw bad(`Invalid 'type': ${pyRepr(type)}. Must be one of ${pyRepr(SECRET_TYPES)}.`);
  }
  return type as SecretType;
}

function parseOverride(entry: Record<string, unknown>): OverrideInput | undefined {
  if (!present(entry, "override")) return undefined;
  const o = entry["override"];
  if (!isObject(o)) throw bad("'override' must be a JSON object.");
  if (typeof o["value"] !== "string") throw bad("'override.value' must be a string.");
  const isActive = o["isActive"];
  if (isActive !== undefined && typeof isActive !== "boolean") throw bad("'override.isActive' must be a boolean.");
  return { value: o["value"], isActive };
}

function parseKey(entry: Record<string, unknown>): string {
  const key = entry["key"];
  if (typeof key !== "string" || key.trim() === "") throw bad("Each secret requires a non-empty 'key'.");
  return key;
}

function parseValue(entry: Record<string, unknown>): string {
  const value = entry["value"];
  if (typeof value !== "string") throw bad("Each secret requires a 'value' string.");
  return value;
}

function parseComment(entry: Record<string, unknown>): string | undefined {
  if (!present(entry, "comment")) return undefined;
  const comment = entry["comment"];
  if (typeof comment !== "string") throw bad("'comment' must be a string.");
  return comment;
}

/** Phase drops non-string tag names (and a non-list `tags`). */
function parseTags(entry: Record<string, unknown>): string[] | undefined {
  const tags = entry["tags"];
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : undefined;
}

/** A non-string path is Phase's `/` on create and "unchanged" on update. */
const parsePath = (entry: Record<string, unknown>) => (typeof entry["path"] === "string" ? entry["path"] : undefined);

export function parseCreateBody(body: Record<string, unknown>): CreateSecretInput[] {
  return secretsList(body, "'secrets' must be a non-empty list.").map((entry) => {
    if (!isObject(entry)) throw bad("Each entry in 'secrets' must be an object.");
    const key = parseKey(entry);
    const value = parseValue(entry);
    const type = parseType(entry) ?? "secret";
    const override = parseOverride(entry);
    return { key, value, type, override, comment: parseComment(entry) ?? "", path: parsePath(entry), tags: parseTags(entry) };
  });
}

export function parseUpdateBody(body: Record<string, unknown>): UpdateSecretInput[] {
  return secretsList(body, "'secrets' must be a non-empty list.").map((entry) => {
    if (!isObject(entry)) throw bad("Secret ID not provided");
    const rawId = entry["id"];
    if ((typeof rawId !== "string" && typeof rawId !== "number") || rawId === "") throw bad("Secret ID not provided");
    const type = parseType(entry);
    const override = parseOverride(entry);
    return {
      id: String(rawId),
      key: present(entry, "key") ? parseKey(entry) : undefined,
      value: present(entry, "value") ? parseValue(entry) : undefined,
      comment: parseComment(entry),
      path: parsePath(entry),
      tags: parseTags(entry),
      type,
      override,
    };
  });
}

export function parseDeleteBody(body: Record<string, unknown>): string[] {
  const message = "'secrets' must be a non-empty list of secret IDs.";
  const ids = secretsList(body, message);
  if (!ids.every((id) => typeof id === "string")) throw bad(message);
  return ids as string[];
}

/** Django's `request.GET.get`: the last value of a repeated parameter; empty counts as absent. */
function param(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === "string" && last !== "" ? last : undefined;
}

export interface ListQuery extends ListFilter {
  dynamic: boolean;
  lease: boolean;
  leaseTtl: number | undefined;
}

/** GET's query (already snake-cased by the authentication hook). */
export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const tags = param(query, "tags");
  const lease = phaseFlag(query["lease"]);
  const dynamic = phaseFlag(query["dynamic"]) || phaseFlag(query["include_dynamic"]);
  const ttl = param(query, "lease_ttl");
  let leaseTtl: number | undefined;
  // Phase reads lease_ttl whenever dynamic secrets are included, with or without `lease`.
  if (dynamic && ttl !== undefined) {
    // Python's int(): optional sign, digits (underscores between them), surrounding whitespace.
    if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(ttl)) throw bad("lease_ttl must be a valid integer (seconds)");
    leaseTtl = Number(ttl.replaceAll("_", "").trim());
  }
  return {
    path: param(query, "path"),
    key: param(query, "key"),
    tags: tags?.split(","),
    dynamic,
    lease,
    leaseTtl,
  };
}
