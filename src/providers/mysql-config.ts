import { z } from "zod";
import { splitMysqlStatements } from "./mysql-statements.js";
import { hasInlinePassword, INLINE_PASSWORD_MESSAGE, renderTemplate, templateIssues } from "./templates.js";

/** Variables each kind of statement may use. `expiration` is the lease expiry, 'YYYY-MM-DD HH:MM:SS' UTC. */
const MYSQL_CREATION_VARS = ["name", "password", "expiration", "ttl_seconds"] as const;
const MYSQL_REVOCATION_VARS = ["name"] as const;
const CONNECTION_VARS = ["username", "password"] as const;

/** MySQL's limit on user names (MariaDB allows 80; we stay within both). */
export const MYSQL_MAX_NAME = 32;
export const DEFAULT_MYSQL_REVOCATION = ["DROP USER IF EXISTS '{{name}}'@'%'"];

/**
 * A string or a list of strings; each is split on top-level `;` (see splitMysqlStatements) and
 * every statement runs on its own, in order (the server never sees two statements in one query).
 */
const statements = z
  .union([z.string(), z.array(z.string())])
  .transform((s, ctx) => {
    try {
      return (Array.isArray(s) ? s : [s]).flatMap(splitMysqlStatements);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.string()).min(1, "at least one statement is required"));

function checkTemplates(allowed: readonly string[]) {
  return (list: string[], ctx: z.RefinementCtx) => {
    const issue = templateIssues(list, allowed);
    if (issue) ctx.addIssue({ code: "custom", message: issue });
  };
}

/** Where the root connection goes, read from connection_url (credentials come from the config). */
export interface MysqlTarget {
  host: string;
  port: number;
  database: string | undefined;
  /** `?ssl=true`: TLS with certificate verification. */
  ssl: boolean;
}

export function mysqlTarget(connectionUrl: string): MysqlTarget {
  const u = new URL(renderTemplate(connectionUrl, { username: "u", password: "p" }));
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  return { host, port: u.port ? Number(u.port) : 3306, database: database || undefined, ssl: u.searchParams.get("ssl") === "true" };
}

export const mysqlConfigSchema = z.object({
  /** e.g. mysql://{{username}}:{{password}}@db:3306/app (returned to clients with the new user's credentials). */
  connection_url: z
    .string()
    .min(1)
    .superRefine((url, ctx) => {
      const issue = templateIssues([url], CONNECTION_VARS);
      if (issue) return void ctx.addIssue({ code: "custom", message: issue });
      if (!/^(mysql|mariadb):\/\//.test(url)) return void ctx.addIssue({ code: "custom", message: "must start with mysql:// or mariadb://" });
      try {
        if (!mysqlTarget(url).host) ctx.addIssue({ code: "custom", message: "must name a host" });
      } catch {
        return void ctx.addIssue({ code: "custom", message: "is not a valid URL" });
      }
      if (hasInlinePassword(url)) ctx.addIssue({ code: "custom", message: INLINE_PASSWORD_MESSAGE });
    }),
  /** Root (admin) account the provider connects as. */
  username: z.string().min(1).max(80),
  /** May be empty (an account without a password). */
  password: z.string().default(""),
  creation_statements: statements.superRefine(checkTemplates(MYSQL_CREATION_VARS)).superRefine((list, ctx) => {
    if (!list.some((s) => /\{\{\s*name\s*\}\}/.test(s))) ctx.addIssue({ code: "custom", message: "must use {{name}} (the user to create)" });
  }),
  revocation_statements: statements.superRefine(checkTemplates(MYSQL_REVOCATION_VARS)).optional(),
  /** First part of generated user names: <prefix>_<role>_<random>, at most 32 characters in all. */
  username_prefix: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,7}$/, "must be 1-8 lower-case letters or digits, starting with a letter")
    .default("v"),
});

export type MysqlConfig = z.output<typeof mysqlConfigSchema>;
