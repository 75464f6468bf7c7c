import type { Database } from "../db/database.js";
import type { Role, TokenKind } from "../generated/prisma/enums.js";
import type { EnvironmentRecord } from "../apps/repository.js";

export interface TokenRecord {
  id: string;
  kind: TokenKind;
  name: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  user: {
    id: string;
    email: string;
    username: string | null;
    fullName: string | null;
    role: Role;
    deletedAt: Date | null;
    createdAt: Date;
    updatedAt: Date;
  } | null;
  serviceAccount: { id: string; name: string; deletedAt: Date | null } | null;
}

interface TokenRow extends Record<string, unknown> {
  id: string;
  kind: TokenKind;
  name: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  user_id: string | null;
  email: string | null;
  username: string | null;
  full_name: string | null;
  role: Role | null;
  user_deleted_at: Date | null;
  user_created_at: Date | null;
  user_updated_at: Date | null;
  sa_id: string | null;
  sa_name: string | null;
  sa_deleted_at: Date | null;
}

const TOKEN_COLUMNS = `t.id, t.kind::text AS kind, t.name, t.expires_at, t.revoked_at, t.last_used_at,
       u.id AS user_id, u.email, u.username, u.full_name, u.role::text AS role, u.deleted_at AS user_deleted_at,
       u.created_at AS user_created_at, u.updated_at AS user_updated_at,
       s.id AS sa_id, s.name AS sa_name, s.deleted_at AS sa_deleted_at`;
const TOKEN_JOINS = `api_tokens t
       LEFT JOIN users u ON u.id = t.user_id
       LEFT JOIN service_accounts s ON s.id = t.service_account_id`;

interface ScopeRow {
  app_id: string | null;
  env_id: string | null;
  env_name: string | null;
  wrapped_key: Uint8Array | null;
  granted: boolean;
}

/** An app_id + env lookup as findAppEnvironment answers it (grant checked for the token's account). */
export interface AppEnvironmentLookup {
  appFound: boolean;
  environment: EnvironmentRecord | null;
  granted: boolean;
}

export interface TokenWithAppEnvironment {
  token: TokenRecord;
  scope: AppEnvironmentLookup;
}

function tokenRecord(r: TokenRow): TokenRecord {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
    user: r.user_id
      ? {
          id: r.user_id,
          email: r.email!,
          username: r.username,
          fullName: r.full_name,
          role: r.role!,
          deletedAt: r.user_deleted_at,
          createdAt: r.user_created_at!,
          updatedAt: r.user_updated_at!,
        }
      : null,
    serviceAccount: r.sa_id ? { id: r.sa_id, name: r.sa_name!, deletedAt: r.sa_deleted_at } : null,
  };
}

/**
 * The per-request token lookups, in raw SQL (one round trip each, without Prisma); part of the
 * identity repository (repository.ts), which composes them with accounts, tokens and grants.
 */
export function createTokenLookup(db: Pick<Database, "query">) {
  return {
    /** The hot path of every request: one round trip, token and owner together, without Prisma. */
    async findTokenByHash(tokenHash: string): Promise<TokenRecord | null> {
      const rows = await db.query<TokenRow>(
        `SELECT ${TOKEN_COLUMNS} FROM ${TOKEN_JOINS} WHERE t.token_hash = $1`,
        [tokenHash],
        { name: "lh_token_by_hash" },
      );
      return rows[0] ? tokenRecord(rows[0]) : null;
    },

    /**
     * Phase's usual request (`app_id` + `env`) in one round trip: the token and its owner, the
     * app, the environment by name (lower-cased by the caller) and whether the token's own account
     * holds a grant on it. The caller still checks the token first, so errors keep Phase's order.
     */
    async findTokenWithAppEnvironment(tokenHash: string, appId: string, envNameLower: string): Promise<TokenWithAppEnvironment | null> {
      const rows = await db.query<TokenRow & ScopeRow>(
        `SELECT ${TOKEN_COLUMNS},
                a.id AS app_id, e.id AS env_id, e.name AS env_name, e.wrapped_key,
                (e.id IS NOT NULL AND EXISTS (
                   SELECT 1 FROM environment_access x
                    WHERE x.environment_id = e.id
                      AND (x.user_id = t.user_id OR x.service_account_id = t.service_account_id))) AS granted
           FROM ${TOKEN_JOINS}
           LEFT JOIN apps a ON a.id = $2::uuid
           LEFT JOIN environments e ON e.app_id = a.id AND e.name_lower = $3
          WHERE t.token_hash = $1`,
        [tokenHash, appId, envNameLower],
        { name: "lh_token_app_environment" },
      );
      const r = rows[0];
      if (!r) return null;
      const environment = r.app_id && r.env_id ? { id: r.env_id, appId: r.app_id, name: r.env_name!, wrappedKey: r.wrapped_key! } : null;
      return { token: tokenRecord(r), scope: { appFound: r.app_id !== null, environment, granted: r.granted } };
    },
  };
}
