import { z } from "zod";
import { hasInlinePassword, INLINE_PASSWORD_MESSAGE, renderTemplate, templateIssues } from "./templates.js";

/** Variables each kind of statement may use (see the dynamic-secrets guide). */
const CREATION_VARS = ["name", "password", "expiration", "ttl_seconds"] as const;
const REVOCATION_VARS = ["name"] as const;
const RENEW_VARS = ["name", "expiration"] as const;
const CONNECTION_VARS = ["username", "password"] as const;

/** A script, or a list of scripts; each runs whole (simple query protocol), so `DO $$…$$` works. */
const statements = z
  .union([z.string(), z.array(z.string())])
  .transform((s) => (Array.isArray(s) ? s : [s]))
  .pipe(z.array(z.string().trim().min(1, "statements must not be empty")).min(1, "at least one statement is required"));

function checkTemplates(allowed: readonly string[]) {
  return (list: string[], ctx: z.RefinementCtx) => {
    const issue = templateIssues(list, allowed);
    if (issue) ctx.addIssue({ code: "custom", message: issue });
  };
}

/** PBKDF2 iterations for a role's SCRAM verifier (also an engine role setting). */
export const scramIterations = z.number().int().min(1).max(100_000, "must be at most 100000 (node-postgres and pgjdbc refuse more by default)");

export const postgresConfigSchema = z.object({
  /** e.g. postgresql://{{username}}:{{password}}@db:5432/app?sslmode=require */
  connection_url: z
    .string()
    .min(1)
    .superRefine((url, ctx) => {
      const issue = templateIssues([url], CONNECTION_VARS);
      if (issue) return void ctx.addIssue({ code: "custom", message: issue });
      if (!/^postgres(ql)?:\/\//.test(url)) {
        return void ctx.addIssue({ code: "custom", message: "must start with postgresql:// or postgres://" });
      }
      try {
        new URL(renderTemplate(url, { username: "u", password: "p" }));
      } catch {
        return void ctx.addIssue({ code: "custom", message: "is not a valid URL" });
      }
      if (hasInlinePassword(url)) ctx.addIssue({ code: "custom", message: INLINE_PASSWORD_MESSAGE });
    }),
  /** Root (admin) role the provider connects as; needs CREATEROLE (or superuser). */
  username: z.string().min(1).max(63),
  password: z.string().min(1),
  creation_statements: statements.superRefine(checkTemplates(CREATION_VARS)).superRefine((list, ctx) => {
    if (!list.some((s) => /\{\{\s*name\s*\}\}/.test(s))) {
      ctx.addIssue({ code: "custom", message: "must use {{name}} (the role to create)" });
    }
  }),
  revocation_statements: statements.superRefine(checkTemplates(REVOCATION_VARS)).optional(),
  renew_statements: statements.superRefine(checkTemplates(RENEW_VARS)).optional(),
  /**
   * PBKDF2 iterations in the SCRAM verifier sent for `PASSWORD '{{password}}'`. Absent: what the
   * target itself uses (PostgreSQL 16's scram_iterations), else 4096, the RFC 7677 floor. Lower
   * counts make every lease and every login of its role cheaper and are safe for these random
   * 192-bit passwords, but some clients refuse them (see the README).
   */
  scram_iterations: scramIterations.optional(),
  /** First part of generated role names: <prefix>_<role>_<random>. */
  username_prefix: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,15}$/, "must be 1-16 lower-case letters or digits, starting with a letter")
    .default("v"),
});

export type PostgresConfig = z.output<typeof postgresConfigSchema>;
