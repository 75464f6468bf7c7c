import { z } from "zod";
import { hasInlinePassword, INLINE_PASSWORD_MESSAGE, renderTemplate, templateIssues } from "./templates.js";

const REDIS_RULE_VARS = ["name"] as const;
const CONNECTION_VARS = ["username", "password"] as const;

/**
 * Rules that set, remove or reset the user's passwords (or wipe the rules we add first): the
 * provider sets the one password itself. `(` / `)` of Redis 7 selectors are ignored for the check.
 */
const PASSWORD_PREFIXES = [">", "<", "#", "!"];
const FORBIDDEN_RULES = new Set(["nopass", "resetpass", "reset"]);

/** Why `token` may not be used as an ACL rule, or null. */
function ruleIssue(token: string): string | null {
  if (token === "") return "ACL rules must not be empty";
  if (/\s/.test(token)) return `ACL rule '${token}' contains whitespace; give one rule per list item`;
  const bare = token.replace(/^\(+/, "").replace(/\)+$/, "");
  if (PASSWORD_PREFIXES.some((p) => bare.startsWith(p)) || FORBIDDEN_RULES.has(bare.toLowerCase())) {
    return `ACL rule '${token}' is not allowed: passwords are set by the provider`;
  }
  return null;
}

/** The user's ACL rules: a string (split on whitespace) or a list with one rule per item. */
const rules = z
  .union([z.string(), z.array(z.string())])
  .transform((s) => (Array.isArray(s) ? s : s.split(/\s+/).filter(Boolean)))
  .pipe(z.array(z.string()).min(1, "at least one ACL rule is required"))
  .superRefine((list, ctx) => {
    const issue = list.map(ruleIssue).find((i) => i !== null) ?? templateIssues(list, REDIS_RULE_VARS);
    if (issue) ctx.addIssue({ code: "custom", message: issue });
  });

/** Where the root connection goes, read from connection_url (credentials come from the config). */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  tls: boolean;
}

export function redisTarget(connectionUrl: string): RedisTarget {
  const u = new URL(renderTemplate(connectionUrl, { username: "u", password: "p" }));
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const db = u.pathname.replace(/^\//, "");
  return { host, port: u.port ? Number(u.port) : 6379, db: db === "" ? 0 : Number(db), tls: u.protocol === "rediss:" };
}

export const redisConfigSchema = z.object({
  /** e.g. redis://{{username}}:{{password}}@cache:6379/0 or rediss://… (TLS, certificate verified). */
  connection_url: z
    .string()
    .min(1)
    .superRefine((url, ctx) => {
      const issue = templateIssues([url], CONNECTION_VARS);
      if (issue) return void ctx.addIssue({ code: "custom", message: issue });
      if (!/^rediss?:\/\//.test(url)) return void ctx.addIssue({ code: "custom", message: "must start with redis:// or rediss://" });
      let t: RedisTarget;
      try {
        t = redisTarget(url);
      } catch {
        return void ctx.addIssue({ code: "custom", message: "is not a valid URL" });
      }
      if (!t.host) ctx.addIssue({ code: "custom", message: "must name a host" });
      if (!Number.isSafeInteger(t.db) || t.db < 0) ctx.addIssue({ code: "custom", message: "the path must be a database number (/0)" });
      if (hasInlinePassword(url)) ctx.addIssue({ code: "custom", message: INLINE_PASSWORD_MESSAGE });
    }),
  /** Root user the provider authenticates as (`default` on a server without ACL users). */
  username: z.string().min(1).default("default"),
  /** Empty: no AUTH at all (a server without a password). */
  password: z.string().default(""),
  /** ACL rules of each new user, e.g. "~cache:* +get +set" or ["~cache:*", "+get", "+set"]. */
  creation_statements: rules,
  /** First part of generated user names: <prefix>_<role>_<random>. */
  username_prefix: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,15}$/, "must be 1-16 lower-case letters or digits, starting with a letter")
    .default("v"),
});

export type RedisConfig = z.output<typeof redisConfigSchema>;
