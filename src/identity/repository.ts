import { randomUUID } from "node:crypto";
import type { Database } from "../db/database.js";
import type { Role, TokenKind } from "../generated/prisma/enums.js";
import { createTokenLookup } from "./token-lookup.js";

export type { AppEnvironmentLookup, TokenRecord, TokenWithAppEnvironment } from "./token-lookup.js";

/**
 * Advisory lock keys (pg_advisory_xact_lock) serialising check-then-insert transactions across
 * processes: two servers starting at once must not both create the first Owner.
 */
const BOOTSTRAP_LOCK = 0x4c48_0001;
const SERVICE_ACCOUNT_NAME_LOCK = 0x4c48_0002;

/** Users, service accounts, their tokens and their environment grants. */
export function createIdentityRepository(db: Pick<Database, "prisma" | "query">) {
  const { prisma } = db;
  return {
    ...createTokenLookup(db),

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
