import { CliError, EXIT } from "./errors.js";
import { parseToken, parseTokenType, type Credential } from "./token.js";

export const DEFAULT_HOST = "http://127.0.0.1:8080";
const DEFAULT_TIMEOUT_S = 60;
/** Where Phase's clients (Go SDK, Terraform provider) find the REST API on a self-hosted PHASE_HOST. */
const PHASE_API_PREFIX = "/service/public";

export interface Settings {
  /** Origin plus path prefix; request paths (`/v1/secrets/`) are appended. */
  apiBase: string;
  credential: Credential;
  timeoutMs: number;
}

/** Where the CLI finds its token (LEASEHOLD_TOKEN first): never passed on to `run`'s command. */
export const TOKEN_VARIABLES = ["LEASEHOLD_TOKEN", "PHASE_SERVICE_TOKEN"] as const;

type Env = Record<string, string | undefined>;
const set = (env: Env, name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);

function hostBase(value: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(EXIT.config, `${variable} must be an http(s) URL such as ${DEFAULT_HOST}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliError(EXIT.config, `${variable} must be an http(s) URL such as ${DEFAULT_HOST}`);
  if (url.username || url.password) throw new CliError(EXIT.config, `${variable} must not contain credentials; use LEASEHOLD_TOKEN`);
  if (url.search || url.hash) throw new CliError(EXIT.config, `${variable} must not have a query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * The server and credential, from the environment:
 * - LEASEHOLD_HOST, else PHASE_HOST, else http://127.0.0.1:8080; trailing slashes dropped. A
 *   PHASE_HOST gets `/service/public` appended (unless it ends with it), as Phase's own clients
 *   do: Leasehold serves that prefix too, and so does a self-hosted Phase.
 * - LEASEHOLD_TOKEN, else PHASE_SERVICE_TOKEN (forms: see parseToken); LEASEHOLD_TOKEN_TYPE
 *   (`user` or `service`) fixes the type of a raw 64-hex token.
 * - LEASEHOLD_TIMEOUT: seconds per request (default 60).
 */
export function loadSettings(env: Env = process.env): Settings {
  const leaseholdHost = set(env, "LEASEHOLD_HOST");
  const phaseHost = set(env, "PHASE_HOST");
  let apiBase = DEFAULT_HOST;
  if (leaseholdHost) apiBase = hostBase(leaseholdHost, "LEASEHOLD_HOST");
  else if (phaseHost) {
    const base = hostBase(phaseHost, "PHASE_HOST");
    apiBase = base.endsWith(PHASE_API_PREFIX) ? base : `${base}${PHASE_API_PREFIX}`;
  }

  const typeOverride = parseTokenType(env["LEASEHOLD_TOKEN_TYPE"]);
  const tokenVariable = TOKEN_VARIABLES.find((name) => set(env, name));
  if (!tokenVariable) throw new CliError(EXIT.config, "no token: set LEASEHOLD_TOKEN (or PHASE_SERVICE_TOKEN)");
  const credential: Credential = parseToken(set(env, tokenVariable)!, tokenVariable, typeOverride);

  const timeout = set(env, "LEASEHOLD_TIMEOUT");
  const seconds = timeout === undefined ? DEFAULT_TIMEOUT_S : Number(timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new CliError(EXIT.config, "LEASEHOLD_TIMEOUT must be a positive number of seconds");
  return { apiBase, credential, timeoutMs: Math.round(seconds * 1000) };
}
