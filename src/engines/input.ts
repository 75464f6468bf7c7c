import { hasInlinePassword } from "../providers/templates.js";
import { formatDuration, parseDuration } from "./durations.js";
import { EngineErrors } from "./errors.js";
import { parseEngineSettings, parseRoleSettings, parseRoot, pluginFor, type EngineKind, type RootCredentials } from "./plugins.js";

/**
 * Request bodies of /v1/dynamic/ → checked values. Everything here is pure: lookups, secrets and
 * connection tests happen in the services.
 */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TEN_YEARS = 10 * 365 * 86_400;
/** Engine TTLs when the body leaves them out. */
export const ENGINE_DEFAULT_TTL = 3600;
export const ENGINE_MAX_TTL = 86_400;

export function objectBody(body: unknown, what = "The request body"): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw EngineErrors.invalidRequest(`${what} must be a JSON object.`);
  return body as Record<string, unknown>;
}

export function checkName(v: unknown, what: string): string {
  if (typeof v !== "string" || !NAME_RE.test(v)) {
    throw EngineErrors.invalidRequest(`${what} must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit.`);
  }
  return v;
}

/** A TTL field: a duration ("30m", "1h", "24h", "90d") or seconds; undefined when absent. */
export function ttlField(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const s = parseDuration(v);
  if (s === null || s <= 0) throw EngineErrors.invalidTtl(`${field} must be a positive duration such as "30m", "1h", "24h" or "90d".`);
  if (s > TEN_YEARS) throw EngineErrors.invalidTtl(`${field} must be at most 10 years.`);
  return s;
}

export function checkTtlOrder(defaultTtl: number, maxTtl: number, what: string): void {
  if (defaultTtl > maxTtl) {
    throw EngineErrors.ttlExceedsMax(`${what} default_ttl (${formatDuration(defaultTtl)}) exceeds its max_ttl (${formatDuration(maxTtl)}).`);
  }
}

export type RootInput = { kind: "inline"; root: RootCredentials } | { kind: "path"; path: string } | { kind: "none" };

export interface EngineConfigInput {
  plugin: string;
  provider: string;
  settings: Record<string, unknown>;
  root: RootInput;
}

/** `config` of an engine body. `base` (PATCH) supplies the stored settings the body leaves out. */
export function parseEngineConfig(type: EngineKind | unknown, raw: unknown, base?: { plugin: string; settings: Record<string, unknown> }): EngineConfigInput {
  const config = objectBody(raw ?? (base ? {} : undefined), "config");
  const { plugin: pluginName, root_credentials: inline, root_credentials_path: path, ...rest } = config;
  if (base && pluginName !== undefined && pluginName !== base.plugin) {
    throw EngineErrors.invalidConfig(`The plugin of an engine cannot be changed (it is '${base.plugin}'); create a new engine.`);
  }
  const { name: plugin, info } = pluginFor(type, pluginName ?? base?.plugin);
  const settings = parseEngineSettings(info.type, { ...(base?.settings ?? {}), ...rest });
  if (info.type === "database") refuseInlinePassword(String(settings["connection_url"]));
  if (inline !== undefined && inline !== null && path !== undefined && path !== null) {
    throw EngineErrors.invalidConfig("Give root_credentials or root_credentials_path, not both.");
  }
  let root: RootInput = { kind: "none" };
  if (inline !== undefined && inline !== null) root = { kind: "inline", root: parseRoot(info.type, inline, "config.root_credentials") };
  else if (path !== undefined && path !== null) {
    if (typeof path !== "string" || path.trim() === "" || path.length > 1024) throw EngineErrors.invalidConfig("config.root_credentials_path must be a non-empty string.");
    root = { kind: "path", path: path.trim() };
  }
  return { plugin, provider: info.provider, settings, root };
}

/**
 * connection_url is stored and shown in clear: a password written into it (instead of
 * `{{password}}` with root_credentials) is refused rather than kept unsealed.
 */
function refuseInlinePassword(url: string): void {
  if (hasInlinePassword(url)) {
    throw EngineErrors.invalidConfig("config.connection_url must not contain a password: write {{username}}:{{password}} and give root_credentials.");
  }
}

export interface RoleInput {
  name: string;
  settings: Record<string, unknown>;
  defaultTtl: number | undefined;
  maxTtl: number | undefined;
}

/** A role body: name, TTLs and the provider settings of the engine's plugin. */
export function parseRole(plugin: string, raw: unknown): RoleInput {
  const body = objectBody(raw);
  const { name, default_ttl, max_ttl, ...settings } = body;
  return {
    name: checkName(name, "name"),
    settings: parseRoleSettings(plugin, settings),
    defaultTtl: ttlField(default_ttl, "default_ttl"),
    maxTtl: ttlField(max_ttl, "max_ttl"),
  };
}

/** Creds body: `ttl` (optional) and `metadata` (optional JSON object, at most 4 KiB, never secrets). */
export function parseCredsBody(raw: unknown): { ttl: number | undefined; metadata: Record<string, unknown> | null } {
  const body = raw === undefined || raw === null ? {} : objectBody(raw);
  for (const k of Object.keys(body)) if (k !== "ttl" && k !== "metadata") throw EngineErrors.invalidRequest(`Unknown field '${k}'; expected ttl and metadata.`);
  const metadata = body["metadata"] === undefined || body["metadata"] === null ? null : objectBody(body["metadata"], "metadata");
  if (metadata && JSON.stringify(metadata).length > 4096) throw EngineErrors.invalidRequest("metadata must be at most 4 KiB of JSON.");
  // Stored as jsonb, which refuses \u0000 (a 500 from the database otherwise).
  if (metadata && /(^|[^\\])(\\\\)*\\u0000/.test(JSON.stringify(metadata))) throw EngineErrors.invalidRequest("metadata must not contain NUL characters.");
  return { ttl: ttlField(body["ttl"], "ttl"), metadata };
}
