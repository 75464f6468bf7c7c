import { UnauthorizedError } from "../errors.js";

export type TokenType = "User" | "ServiceAccount" | "Service";
const TOKEN_TYPES: readonly string[] = ["User", "Service", "ServiceAccount"];

export interface BearerToken {
  /** The type the client named; undefined for a plain `Bearer <token>` (our own routes only). */
  type: TokenType | undefined;
  token: string;
}

export const NO_CREDENTIALS = "Authentication credentials were not provided.";

/**
 * Phase's Authorization rules: split on single spaces, `bearer` (any case), a case-sensitive type
 * (`User`, `ServiceAccount`, legacy `Service`) and the token; anything after is ignored.
 * `allowPlain` additionally accepts `Bearer <token>` (our management routes).
 */
export function parseAuthorization(header: string | undefined, allowPlain: boolean): BearerToken {
  if (header === undefined || header === "") {
    throw new UnauthorizedError(NO_CREDENTIALS, { "WWW-Authenticate": "Bearer" });
  }
  const parts = header.split(" ");
  if (parts[0]?.toLowerCase() !== "bearer") throw new UnauthorizedError("Invalid token");
  if (allowPlain && parts.length === 2 && parts[1]) return { type: undefined, token: parts[1] };
  const [, type, token] = parts;
  if (!type || !token || !TOKEN_TYPES.includes(type)) throw new UnauthorizedError("Invalid token");
  return { type: type as TokenType, token };
}
