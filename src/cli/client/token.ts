import { CliError, EXIT } from "./errors.js";

/** The types of Phase's `Authorization: Bearer <type> <token>` header. */
export type TokenType = "ServiceAccount" | "User" | "Service";

export interface Credential {
  /** The 64-hex bearer token (the only part the REST API reads). */
  token: string;
  /** Known from the token's form or LEASEHOLD_TOKEN_TYPE; undefined for a raw token (tried as ServiceAccount, then User). */
  type: TokenType | undefined;
}

// Phase's client token forms, as phasehq/golang-sdk (phase/misc/const.go) and the Terraform
// provider match them: four 64-hex segments; the first is the bearer token, the rest E2EE key
// material the REST API never sees.
const PSS_SERVICE = /^pss_service:v(\d+):([a-fA-F0-9]{64}):[a-fA-F0-9]{64}:[a-fA-F0-9]{64}:[a-fA-F0-9]{64}$/;
const PSS_USER = /^pss_user:v(\d+):([a-fA-F0-9]{64}):[a-fA-F0-9]{64}:[a-fA-F0-9]{64}:[a-fA-F0-9]{64}$/;
const RAW = /^[a-fA-F0-9]{64}$/;
/** The ready header value our management API returns (`Bearer ServiceAccount <t>`), pasted whole. */
const TYPED = /^(?:Bearer\s+)?(ServiceAccount|User|Service)\s+([a-fA-F0-9]{64})$/;

const TYPE_NAMES: Record<string, TokenType> = { user: "User", service: "ServiceAccount", service_account: "ServiceAccount", serviceaccount: "ServiceAccount" };

/** LEASEHOLD_TOKEN_TYPE: `user` or `service` (alias `service_account`), any case. */
export function parseTokenType(value: string | undefined): TokenType | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const type = TYPE_NAMES[value.trim().toLowerCase()];
  if (!type) throw new CliError(EXIT.config, "LEASEHOLD_TOKEN_TYPE must be 'user' or 'service'");
  return type;
}

/**
 * Reads a token in any of the forms Leasehold hands out: `pss_service:v2:…` (a service account:
 * `ServiceAccount`; Phase's legacy `pss_service:v1:…` is `Service`), `pss_user:v1:…` (`User`), a
 * raw 64-hex token (type from `typeOverride`, else unknown), or `[Bearer ]<Type> <64 hex>`.
 * Messages name the variable, never the token.
 */
export function parseToken(value: string, variable: string, typeOverride?: TokenType): Credential {
  const v = value.trim();
  const service = PSS_SERVICE.exec(v);
  if (service) return { token: service[2]!.toLowerCase(), type: service[1] === "2" ? "ServiceAccount" : "Service" };
  const user = PSS_USER.exec(v);
  if (user) return { token: user[2]!.toLowerCase(), type: "User" };
  if (RAW.test(v)) return { token: v.toLowerCase(), type: typeOverride };
  const typed = TYPED.exec(v);
  if (typed) return { token: typed[2]!.toLowerCase(), type: typed[1] as TokenType };
  const kind = v.startsWith("pss_user") ? "user token (pss_user:v1:…)" : v.startsWith("pss_service") ? "service token (pss_service:v2:…)" : "token";
  throw new CliError(
    EXIT.config,
    `${variable} is not a valid ${kind}: expected pss_service:v2:…, pss_user:v1:… or a 64-hex token`,
  );
}
