import { z } from "zod";
import { isUuid } from "../auth/environment-context.js";
import { BadRequestError } from "../errors.js";
import { keyMapInputSchema } from "./key-map.js";

const TEN_YEARS = 10 * 365 * 86_400;
/** PostgreSQL text cannot hold NUL: refused here instead of failing in the database (a 500). */
const noNul = [(s: string) => !s.includes("\u0000"), "must not contain NUL characters"] as const;
const ttl = z.number().int().min(60, "must be at least 60 seconds").max(TEN_YEARS, "must be at most 10 years");
/** The definition's fields as the service validates them (also documented in the OpenAPI output). */
export const definitionFields = {
  name: z.string().trim().min(1, "must not be empty").max(128).refine((n) => !n.includes("/"), "must not contain '/'").refine(...noNul),
  description: z.string().max(10_000).refine(...noNul),
  config: z.record(z.string(), z.unknown()),
  keyMap: keyMapInputSchema,
  defaultTtl: ttl,
  maxTtl: ttl,
  /** Check the config reaches the target (provider.testConnection) before saving. */
  verifyConnection: z.boolean(),
};
/** A new definition, as the service's create takes it. */
export const createSchema = z.object({
  environmentId: z.string().refine(isUuid, "must be a UUID"),
  path: z.string().max(1_000).refine(...noNul).default("/"),
  provider: z.string().min(1),
  ...definitionFields,
  description: definitionFields.description.default(""),
  keyMap: definitionFields.keyMap.optional(),
  verifyConnection: definitionFields.verifyConnection.default(true),
});
/** An update: any subset of the definition's fields. */
export const updateSchema = z.object(definitionFields).partial();

export type CreateDefinitionInput = z.input<typeof createSchema>;
export type UpdateDefinitionInput = z.input<typeof updateSchema>;

/** The parsed input, or a BadRequestError naming the first invalid field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new BadRequestError(`Invalid ${issue?.path.join(".") || "input"}: ${issue?.message ?? "invalid value"}`);
}
