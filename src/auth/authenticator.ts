import type { Clock } from "../clock.js";
import { hashToken } from "../crypto/tokens.js";
import { NotFoundError, UnauthorizedError } from "../errors.js";
import type { AppEnvironmentLookup, IdentityRepository, TokenRecord } from "../identity/repository.js";
import type { BearerToken } from "./header.js";
import type { Principal } from "./principal.js";

const TOKEN_GONE = "Token expired or deleted";
const TOUCH_EVERY_MS = 60_000;

export interface Authenticator {
  authenticate(bearer: BearerToken): Promise<Principal>;
  /**
   * authenticate() and the app_id + env lookup of Phase's usual request in one round trip. Token
   * failures are raised first, exactly as authenticate() raises them.
   */
  authenticateIn(bearer: BearerToken, appId: string, envName: string): Promise<{ principal: Principal; scope: AppEnvironmentLookup }>;
}

/** Turns a bearer token into a Principal, with Phase's statuses and messages for each failure. */
export function createAuthenticator(deps: {
  identity: Pick<IdentityRepository, "findTokenByHash" | "findTokenWithAppEnvironment" | "touchToken">;
  clock: Clock;
}): Authenticator {
  const wellFormed = (token: string) => {
    if (!/^[0-9a-f]{64}$/i.test(token)) throw new UnauthorizedError(TOKEN_GONE);
    return hashToken(token.toLowerCase());
  };

  function principalOf(record: TokenRecord | null, type: BearerToken["type"]): Principal {
    const now = deps.clock.now();
    if (!record || record.revokedAt || (record.expiresAt && record.expiresAt.getTime() <= now.getTime())) {
      throw new UnauthorizedError(TOKEN_GONE);
    }
    const expected = type === "User" ? "USER" : type === "ServiceAccount" ? "SERVICE_ACCOUNT" : type;
    if (expected !== undefined && expected !== record.kind) throw new UnauthorizedError(TOKEN_GONE);

    if (!record.lastUsedAt || now.getTime() - record.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      void deps.identity.touchToken(record.id, now).catch(() => undefined);
    }

    if (record.kind === "USER") {
      const u = record.user;
      if (!u || u.deletedAt) throw new NotFoundError("User not found");
      return {
        kind: "user", id: u.id, role: u.role, email: u.email, username: u.username, fullName: u.fullName, tokenId: record.id,
        createdAt: u.createdAt, updatedAt: u.updatedAt,
      };
    }
    const sa = record.serviceAccount;
    if (!sa || sa.deletedAt) throw new NotFoundError("Service account not found");
    return { kind: "service_account", id: sa.id, name: sa.name, tokenId: record.id };
  }

  return {
    async authenticate({ type, token }) {
      return principalOf(await deps.identity.findTokenByHash(wellFormed(token)), type);
    },
    async authenticateIn({ type, token }, appId, envName) {
      const found = await deps.identity.findTokenWithAppEnvironment(wellFormed(token), appId, envName.toLowerCase());
      return { principal: principalOf(found?.token ?? null, type), scope: found?.scope ?? { appFound: false, environment: null, granted: false } };
    },
  };
}
