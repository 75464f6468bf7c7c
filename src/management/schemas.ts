import { z } from "zod";

/**
 * Request and response schemas of the management API. Messages are written to follow the error
 * handler's prefix, e.g. `Invalid body field 'name': must not be empty`. Bodies are strict (an
 * unknown or misspelt field is a 400, not silently ignored). Response schemas list every field
 * the wire may carry: the serializer drops anything else, so a new column never leaks by accident.
 */

const required = (what: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? "is required" : `must be ${what}`),
});

/** A trimmed, non-empty string of at most `max` characters. */
export const text = (max: number) =>
  z
    .string(required("a string"))
    .trim()
    .min(1, { error: "must not be empty" })
    .max(max, { error: `must be at most ${max} characters` });

const jsonObject = { error: (iss: { code?: string }) => (iss.code === "invalid_type" ? "must be a JSON object" : undefined) };

// ---- params -------------------------------------------------------------------------------
// Ids are plain strings here: a malformed id is just an id that does not exist (404, decided by
// the services), as Phase answers for unknown ids.
export const idParams = z.object({ id: z.string() });
export const tokenParams = z.object({ id: z.string(), token_id: z.string() });

// ---- apps and environments ----------------------------------------------------------------
/** Environment names are used in secret references (`${Production.KEY}`), so they stay simple. */
export const environmentName = text(64).regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, {
  error: "must start with a letter or digit and contain only letters, digits, '-' and '_'",
});
/** App names appear in cross-app references (`${app::env.KEY}`): no ':' there. */
const appName = text(64).regex(/^[^:\p{Cc}]+$/u, { error: "must not contain ':' or control characters" });

export const createAppBody = z.strictObject(
  {
    name: appName,
    environments: z
      .array(environmentName, required("an array of environment names"))
      .min(1, { error: "must name at least one environment" })
      .max(50, { error: "must name at most 50 environments" })
      .optional(),
  },
  jsonObject,
);
export const createEnvironmentBody = z.strictObject({ name: environmentName }, jsonObject);

const id = z.uuid();
const timestamp = z.iso.datetime();

export const environmentResponse = z.object({ id, name: z.string() });
export const appResponse = z.object({
  id,
  name: z.string(),
  environments: z.array(environmentResponse),
  created_at: timestamp,
  updated_at: timestamp,
});

// ---- users and service accounts -----------------------------------------------------------
export const ROLE_NAMES = { OWNER: "Owner", ADMIN: "Admin", DEVELOPER: "Developer" } as const;
const ROLE_HINT = "must be one of Owner, Admin, Developer";

/** Role names as Phase shows them (`Owner`), accepted in any case, parsed to the enum. */
const role = z
  .string({ error: (iss) => (iss.input === undefined ? "is required" : ROLE_HINT) })
  .trim()
  .toUpperCase()
  .pipe(z.enum(["OWNER", "ADMIN", "DEVELOPER"], { error: ROLE_HINT }));

export const createUserBody = z.strictObject(
  {
    email: z
      .string(required("a string"))
      .trim()
      .toLowerCase()
      .pipe(z.email({ error: "must be a valid email address" }).max(254, { error: "must be at most 254 characters" })),
    username: text(150).nullish(),
    full_name: text(150).nullish(),
    role,
  },
  jsonObject,
);

export const userResponse = z.object({
  id,
  email: z.string(),
  username: z.string().nullable(),
  full_name: z.string().nullable(),
  role: z.enum(["Owner", "Admin", "Developer"]),
  created_at: timestamp,
  updated_at: timestamp,
});

export const createServiceAccountBody = z.strictObject({ name: text(64) }, jsonObject);
export const serviceAccountResponse = z.object({ id, name: z.string(), created_at: timestamp, updated_at: timestamp });

// ---- access grants ------------------------------------------------------------------------
export const accessBody = z.strictObject(
  {
    app_id: z.string(required("a string")),
    // Names of existing environments, matched case-insensitively.
    environments: z
      .array(text(64), required("an array of environment names"))
      .min(1, { error: "must name at least one environment" })
      .max(50, { error: "must name at most 50 environments" }),
  },
  jsonObject,
);
export const accessResponse = z.array(
  z.object({ app_id: id, app_name: z.string(), environments: z.array(environmentResponse) }),
);

// ---- tokens -------------------------------------------------------------------------------
export const MAX_TOKEN_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;
const EXPIRES_HINT = `must be a whole number of seconds from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}`;

export const createTokenBody = z.strictObject(
  {
    name: text(64),
    /** Lifetime in seconds; omitted or null: the token never expires. */
    expires_in: z
      .number({ error: EXPIRES_HINT })
      .int({ error: EXPIRES_HINT })
      .min(1, { error: EXPIRES_HINT })
      .max(MAX_TOKEN_LIFETIME_SECONDS, { error: EXPIRES_HINT })
      .nullish(),
  },
  jsonObject,
);

export const issuedTokenResponse = z.object({
  id,
  name: z.string(),
  /** The raw bearer token (64 hex), shown only in this response. */
  token: z.string(),
  /** The token in the form Phase's clients parse: pss_service:v2:… or pss_user:v1:… */
  phase_token: z.string(),
  authorization: z.string(),
  expires_at: timestamp.nullable(),
});

/** Token metadata: never the token or its hash. */
export const tokenResponse = z.object({
  id,
  name: z.string(),
  expires_at: timestamp.nullable(),
  revoked_at: timestamp.nullable(),
  last_used_at: timestamp.nullable(),
  created_at: timestamp,
});

// ---- errors (documentation for the OpenAPI output; the error handler builds them) ---------
export const errorResponse = z.object({ error: z.string() });
