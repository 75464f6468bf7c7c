import { z } from "zod";
import { PERMISSIONS } from "./access.js";
import { patternError, segmentsOf } from "./glob.js";

/**
 * Request and response schemas of /v1/policies/. Messages follow the error handler's prefix
 * (`Invalid body field 'rules.0.permissions.1': must be one of ...`); bodies are strict.
 */

const required = (what: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? "is required" : `must be ${what}`),
});
const jsonObject = { error: (iss: { code?: string }) => (iss.code === "invalid_type" ? "must be a JSON object" : undefined) };

/** Policy names appear in URLs: letters, digits, '.', '_', '-', starting with a letter or digit. */
export const policyName = z
  .string(required("a string"))
  .min(1, { error: "must not be empty" })
  .max(64, { error: "must be at most 64 characters" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    error: "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
  });

const PERMISSION_HINT = `must be one of ${PERMISSIONS.join(", ")}`;

/** Stored without leading or trailing slashes, as it is compared. */
const pathPattern = z
  .string(required("a string"))
  .superRefine((value, ctx) => {
    const problem = patternError(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .transform((value) => segmentsOf(value).join("/"));

const rule = z.strictObject(
  {
    path_pattern: pathPattern,
    permissions: z
      .array(z.enum(PERMISSIONS, { error: PERMISSION_HINT }), required("an array of permissions"))
      .min(1, { error: "must name at least one permission" })
      .max(PERMISSIONS.length, { error: `must name at most ${PERMISSIONS.length} permissions` })
      .transform((list) => [...new Set(list)]),
  },
  jsonObject,
);

const rules = z
  .array(rule, required("an array of rules"))
  .min(1, { error: "must contain at least one rule" })
  .max(100, { error: "must contain at most 100 rules" });

export const createPolicyBody = z.strictObject({ name: policyName, rules }, jsonObject);
/** PUT replaces the rules; `name` may be repeated but not changed. */
export const replacePolicyBody = z.strictObject({ name: z.string(required("a string")).optional(), rules }, jsonObject);

const accountId = z.string(required("a string")).min(1, { error: "must not be empty" });
/** Exactly one of the two; checked by the routes, which also accept the same fields as a query (DELETE). */
export const bindingBody = z.strictObject(
  { user_id: accountId.optional(), service_account_id: accountId.optional() },
  jsonObject,
);
export const bindingQuery = z.object({ user_id: z.string().optional(), service_account_id: z.string().optional() });

export const nameParams = z.object({ name: z.string() });

const timestamp = z.iso.datetime();

export const policyResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  rules: z.array(z.object({ path_pattern: z.string(), permissions: z.array(z.string()) })),
  created_at: timestamp,
  updated_at: timestamp,
});

export const bindingResponse = z.object({
  policy: z.string(),
  user_id: z.uuid().nullable(),
  service_account_id: z.uuid().nullable(),
  created_at: timestamp,
});
