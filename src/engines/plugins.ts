import { z } from "zod";
import { EngineErrors } from "./errors.js";
import { scramIterations } from "../providers/postgresql-config.js";

/**
 * Engine `type` + `plugin` → provider id, and how an engine (connection, root credentials) and a
 * role (statements or IAM policy, TTLs) combine into the provider's flat config schema.
 */
export type EngineKind = "database" | "aws";

export interface PluginInfo {
  type: EngineKind;
  provider: string;
  /** Port of `data.port` when connection_url names none. */
  defaultPort?: number;
}

export const PLUGINS: Record<string, PluginInfo> = {
  postgresql: { type: "database", provider: "postgresql", defaultPort: 5432 },
  mysql: { type: "database", provider: "mysql", defaultPort: 3306 },
  redis: { type: "database", provider: "redis", defaultPort: 6379 },
  aws: { type: "aws", provider: "aws" },
};

/** The plugin of an engine body: databases name it; `aws` engines may leave it out. */
export function pluginFor(type: unknown, plugin: unknown): { name: string; info: PluginInfo } {
  if (type !== "database" && type !== "aws") {
    throw EngineErrors.invalidConfig(`Unknown or unavailable engine type '${String(type)}'; supported: database, aws.`);
  }
  const name = plugin === undefined && type === "aws" ? "aws" : plugin;
  if (typeof name !== "string" || name === "") throw EngineErrors.invalidConfig("config.plugin is required for database engines.");
  const info = PLUGINS[name];
  if (!info) throw EngineErrors.invalidConfig(`Plugin '${name}' is not available on this server.`, { plugin: name });
  if (info.type !== type) throw EngineErrors.invalidConfig(`Plugin '${name}' belongs to engines of type '${info.type}', not '${String(type)}'.`);
  return { name, info };
}

/** Root credentials, as given inline or stored (JSON) at root_credentials_path. */
export const rootSchemas = {
  database: z.strictObject({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) }),
  aws: z.strictObject({ access_key_id: z.string().min(1).max(128), secret_access_key: z.string().min(1).max(1024) }),
} as const;

export type RootCredentials = Record<string, string>;

/** The engine's non-secret settings per kind (everything in `config` but plugin and root credentials). */
const engineSettings = {
  database: z.strictObject({ connection_url: z.string().min(1).max(2048) }),
  aws: z.strictObject({
    region: z.string().min(1).max(64),
    endpoint: z.string().max(2048).optional(),
    sts_endpoint: z.string().max(2048).optional(),
    role_arn: z.string().max(2048).optional(),
    external_id: z.string().max(1224).optional(),
  }),
} as const;

const statements = z.union([z.string(), z.array(z.string())]);

/** A role's provider settings per kind (its name and TTLs are handled apart). */
const roleSettings = {
  database: z.strictObject({
    creation_statements: statements,
    revocation_statements: statements.optional(),
    renew_statements: statements.optional(),
  }),
  aws: z.strictObject({
    credential_type: z.literal("iam_user", "only 'iam_user' is supported").default("iam_user"),
    policy_document: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    policy_arns: z.union([z.string(), z.array(z.string())]).optional(),
    groups: z.union([z.string(), z.array(z.string())]).optional(),
    iam_path: z.string().optional(),
    permission_boundary_arn: z.string().optional(),
    username_template: z.string().optional(),
  }),
} as const;

function parseOr400<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? `${what}.${issue.path.join(".")}` : what;
  const message = issue?.code === "unrecognized_keys" ? `unknown field ${issue.keys.map((k) => `'${k}'`).join(", ")}` : (issue?.message ?? "invalid value");
  throw EngineErrors.invalidConfig(`Invalid ${where}: ${message}`);
}

export const parseEngineSettings = (kind: EngineKind, settings: unknown) =>
  parseOr400(engineSettings[kind], settings, "config") as Record<string, unknown>;
/** A role's settings per plugin: its kind's, and PostgreSQL's SCRAM iteration count (see the provider's config). */
const roleSettingsOf: Record<string, z.ZodType> = {
  postgresql: roleSettings.database.extend({ scram_iterations: scramIterations.optional() }),
  mysql: roleSettings.database,
  redis: roleSettings.database,
  aws: roleSettings.aws,
};

export const parseRoleSettings = (plugin: string, settings: unknown) =>
  parseOr400(roleSettingsOf[plugin]!, settings, "role") as Record<string, unknown>;
export const parseRoot = (kind: EngineKind, root: unknown, what: string): RootCredentials =>
  parseOr400(rootSchemas[kind], root, what) as RootCredentials;

/** The part of a provider config that comes from the engine: where to connect and as whom. */
export function connectionPart(kind: EngineKind, settings: Record<string, unknown>, root: RootCredentials | null): Record<string, unknown> {
  if (kind === "database") return { connection_url: settings["connection_url"], username: root?.["username"], password: root?.["password"] };
  return {
    ...settings,
    ...(root ? { access_key_id: root["access_key_id"], secret_access_key: root["secret_access_key"] } : {}),
  };
}

/** The role's part: for AWS everything but credential_type (the provider only makes IAM users). */
function rolePart(kind: EngineKind, role: Record<string, unknown>): Record<string, unknown> {
  if (kind === "database") return role;
  const { credential_type: _type, ...rest } = role;
  return rest;
}

/** The provider's flat config: engine connection and root credentials, plus the role's settings. */
export function providerConfig(kind: EngineKind, settings: Record<string, unknown>, root: RootCredentials | null, role: Record<string, unknown>) {
  const conn = connectionPart(kind, settings, root);
  return Object.fromEntries(Object.entries({ ...rolePart(kind, role), ...conn }).filter(([, v]) => v !== undefined));
}

/** A stand-in role for the engine's connection test (the provider schemas need role fields). */
export function probeRole(plugin: string): Record<string, unknown> {
  switch (plugin) {
    case "postgresql":
      return { creation_statements: [`CREATE ROLE "{{name}}"`] };
    case "mysql":
      return { creation_statements: [`CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`] };
    case "redis":
      return { creation_statements: ["+@read"] };
    default:
      return {};
  }
}
