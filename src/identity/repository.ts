import { randomUUID } from "node:crypto";
import type { Database } from "../db/database.js";
import type { Role, TokenKind } from "../generated/prisma/enums.js";
import type { EnvironmentRecord } from "../apps/repository.js";

/**
 * Advisory lock keys (pg_advisory_xact_lock) serialising check-then-insert transactions across
 * processes: two servers starting at once must not both create the first Owner.
 */
const BOOTSTRAP_LOCK = 0x4c48_0001;
const SERVICE_ACCOUNT_NAME_LOCK = 0x4c48_0002;

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

/** Users, service accounts, their tokens and their environment grants. */
export function createIdentityRepository(db: Pick<Database, "prisma" | "query">) {
  const { prisma } = db;
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

    async touchToken(id: string, at: Date): Promise<void> {
      await prisma.apiToken.updateMany({ where: { id }, data: { lastUsedAt: at } });
    },

    createToken(input: {
      kind: TokenKind;
      ownerId: string;
      name: string;
      tokenHash: string;
      expiresAt: Date | null;
    }) {
      return prisma.apiToken.create({
        data: {
          id: randomUUID(),
          kind: input.kind,
          name: input.name,
          tokenHash: input.tokenHash,
          expiresAt: input.expiresAt,
          ...(input.kind === "USER" ? { userId: input.ownerId } : { serviceAccountId: input.ownerId }),
        },
      });
    },

    /** Marks a token of the given owner revoked; false if there is no such live token. */
    async revokeToken(kind: TokenKind, ownerId: string, tokenId: string, at: Date): Promise<boolean> {
      const owner = kind === "USER" ? { userId: ownerId } : { serviceAccountId: ownerId };
      const { count } = await prisma.apiToken.updateMany({
        where: { id: tokenId, kind, revokedAt: null, ...owner },
        data: { revokedAt: at },
      });
      return count === 1;
    },

    listTokens(kind: TokenKind, ownerId: string) {
      const owner = kind === "USER" ? { userId: ownerId } : { serviceAccountId: ownerId };
      return prisma.apiToken.findMany({
        where: { kind, ...owner },
        orderBy: { createdAt: "asc" },
        select: { id: true, name: true, expiresAt: true, revokedAt: true, lastUsedAt: true, createdAt: true },
      });
    },

    createUser(input: { email: string; username: string | null; fullName: string | null; role: Role }) {
      return prisma.user.create({ data: { id: randomUUID(), ...input } });
    },

    findUser(id: string) {
      return prisma.user.findFirst({ where: { id, deletedAt: null } });
    },

    listUsers() {
      return prisma.user.findMany({ where: { deletedAt: null }, orderBy: { createdAt: "asc" } });
    },

    countOwners(): Promise<number> {
      return prisma.user.count({ where: { role: "OWNER", deletedAt: null } });
    },

    /**
     * Creates the first Owner and its token in one transaction, unless an Owner exists (then null).
     * The transaction-scoped advisory lock makes concurrent bootstraps (two processes starting on
     * one database) queue here, so the second one sees the first one's Owner. Only `tx` is used
     * inside: the outer client would wait for a connection the transaction holds.
     */
    createFirstOwner(input: { email: string; username: string; tokenName: string; tokenHash: string }) {
      return prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
        if ((await tx.user.count({ where: { role: "OWNER", deletedAt: null } })) > 0) return null;
        const user = await tx.user.create({
          data: { id: randomUUID(), email: input.email, username: input.username, fullName: null, role: "OWNER" },
        });
        const token = await tx.apiToken.create({
          data: { id: randomUUID(), kind: "USER", userId: user.id, name: input.tokenName, tokenHash: input.tokenHash, expiresAt: null },
        });
        return { user, token };
      });
    },

    createServiceAccount(name: string) {
      return prisma.serviceAccount.create({ data: { id: randomUUID(), name } });
    },

    /**
     * Creates a service account unless a live one has the same name (case-insensitively): null then.
     * The schema has no unique index on names (deleted accounts keep theirs), so an advisory lock
     * serialises the check and the insert.
     */
    createServiceAccountWithUniqueName(name: string) {
      return prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${SERVICE_ACCOUNT_NAME_LOCK})`);
        const taken = await tx.serviceAccount.findFirst({
          where: { name: { equals: name, mode: "insensitive" }, deletedAt: null },
          select: { id: true },
        });
        if (taken) return null;
        return tx.serviceAccount.create({ data: { id: randomUUID(), name } });
      });
    },

    findServiceAccount(id: string) {
      return prisma.serviceAccount.findFirst({ where: { id, deletedAt: null } });
    },

    listServiceAccounts() {
      return prisma.serviceAccount.findMany({ where: { deletedAt: null }, orderBy: { createdAt: "asc" } });
    },

    /** Grants access to each environment (idempotent). */
    async grantAccess(account: { userId: string } | { serviceAccountId: string }, environmentIds: string[]): Promise<void> {
      await prisma.environmentAccess.createMany({
        data: environmentIds.map((environmentId) => ({ id: randomUUID(), environmentId, ...account })),
        skipDuplicates: true,
      });
    },

    async revokeAccess(account: { userId: string } | { serviceAccountId: string }, environmentIds: string[]): Promise<number> {
      const { count } = await prisma.environmentAccess.deleteMany({
        where: { environmentId: { in: environmentIds }, ...account },
      });
      return count;
    },

    async hasAccess(account: { userId: string } | { serviceAccountId: string }, environmentId: string): Promise<boolean> {
      const row = await prisma.environmentAccess.findFirst({ where: { environmentId, ...account }, select: { id: true } });
      return row !== null;
    },

    async hasAnyAccessInApp(account: { userId: string } | { serviceAccountId: string }, appId: string): Promise<boolean> {
      const row = await prisma.environmentAccess.findFirst({
        where: { environment: { appId }, ...account },
        select: { id: true },
      });
      return row !== null;
    },

    /** The account's grants, ordered by app name, then each app's environment order. */
    listAccess(account: { userId: string } | { serviceAccountId: string }) {
      return prisma.environmentAccess.findMany({
        where: account,
        orderBy: [{ environment: { app: { name: "asc" } } }, { environment: { sortOrder: "asc" } }],
        select: { environment: { select: { id: true, name: true, app: { select: { id: true, name: true } } } } },
      });
    },
  };
}

export type IdentityRepository = ReturnType<typeof createIdentityRepository>;
