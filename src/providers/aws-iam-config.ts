import { z } from "zod";
import { templateIssues, renderTemplate } from "./templates.js";

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/;
const GROUP_NAME = /^[\w+=,.@-]{1,128}$/;
export const USERNAME_RE = /^[\w+=,.@-]{1,64}$/;
/** Length of the {{random}} part of generated user names ([a-z0-9]). */
export const RANDOM_LENGTH = 16;

/** A list given as an array or a comma-separated string (Phase accepts both). */
const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter(Boolean));

/** IAM paths always start and end with "/" (forced, as Phase does). */
export function normalizeIamPath(path: string): string {
  const trimmed = path.trim().replace(/^\/+|\/+$/g, "");
  return trimmed ? `/${trimmed}/` : "/";
}

export const awsIamConfigSchema = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "must be an AWS region such as us-east-1"),
    /** Override of the IAM endpoint (tests, LocalStack, partitions); also used for STS unless sts_endpoint. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    sts_endpoint: z.url({ protocol: /^https?$/ }).optional(),
    access_key_id: z.string().regex(/^[A-Z0-9]{16,128}$/, "is not an AWS access key id").optional(),
    secret_access_key: z.string().min(1).optional(),
    role_arn: z.string().regex(ROLE_ARN, "must be an IAM role ARN").optional(),
    external_id: z.string().min(2).max(1224).optional(),
    username_template: z
      .string()
      .default("leasehold-{{random}}")
      .superRefine((t, ctx) => {
        const issue = templateIssues([t], ["random"]);
        if (issue) return void ctx.addIssue({ code: "custom", message: issue });
        if (!/\{\{\s*random\s*\}\}/.test(t)) return void ctx.addIssue({ code: "custom", message: "must contain {{random}}" });
        const sample = renderTemplate(t, { random: "x".repeat(RANDOM_LENGTH) });
        if (!USERNAME_RE.test(sample)) {
          ctx.addIssue({ code: "custom", message: "renders to an invalid IAM user name (max 64 of A-Za-z0-9_+=,.@-)" });
        }
      }),
    iam_path: z
      .string()
      .default("/")
      .transform(normalizeIamPath)
      .pipe(z.string().max(512).regex(/^\/([\x21-\x7e]+\/)?$/, "must be printable ASCII")),
    policy_arns: list.pipe(z.array(z.string().regex(POLICY_ARN, "must be IAM policy ARNs"))).default([]),
    /** Group names or ARNs; an ARN is reduced to its last path segment. */
    groups: list
      .transform((a) => a.map((g) => g.split("/").pop() as string))
      .pipe(z.array(z.string().regex(GROUP_NAME, "must be IAM group names or ARNs")))
      .default([]),
    permission_boundary_arn: z.string().regex(POLICY_ARN, "must be an IAM policy ARN").optional(),
    /** Inline policy (JSON text or object), attached as leasehold-inline-policy. */
    policy_document: z
      .union([z.string(), z.record(z.string(), z.unknown())])
      .transform((doc, ctx) => {
        let parsed: unknown = doc;
        if (typeof doc === "string") {
          try {
            parsed = JSON.parse(doc);
          } catch {
            ctx.addIssue({ code: "custom", message: "must be valid JSON" });
            return z.NEVER;
          }
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
          ctx.addIssue({ code: "custom", message: "must be a JSON object" });
          return z.NEVER;
        }
        return JSON.stringify(parsed);
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (!!c.access_key_id !== !!c.secret_access_key) {
      ctx.addIssue({ code: "custom", message: "access_key_id and secret_access_key go together", path: ["access_key_id"] });
    }
    if (!c.access_key_id && !c.role_arn) {
      ctx.addIssue({ code: "custom", message: "needs access_key_id + secret_access_key, or role_arn", path: ["access_key_id"] });
    }
    if (c.external_id && !c.role_arn) ctx.addIssue({ code: "custom", message: "needs role_arn", path: ["external_id"] });
  });

export type AwsIamConfig = z.output<typeof awsIamConfigSchema>;
