import { randomBytes } from "node:crypto";
import type { AppRepository } from "../apps/repository.js";
import type { AuditSink } from "../audit/events.js";
import { systemEvent } from "../audit/management-events.js";
import { isUuid } from "../auth/environment-context.js";
import type { Clock } from "../clock.js";
import { generateToken, hashToken } from "../crypto/tokens.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import { BadRequestError, ConflictError, NotFoundError } from "../errors.js";
import type { Role, TokenKind } from "../generated/prisma/enums.js";
import type { IdentityRepository } from "./repository.js";

export interface IssuedToken {
  id: string;
  name: string;
  /** The raw token: 64 hex characters, shown once. */
  token: string;
  /** The form Phase's REST clients parse (pss_service:v2:… or pss_user:v1:…). */
  phase_token: string;
  /** The ready Authorization header value. */
  authorization: string;
  expires_at: string | null;
}

/**
 * Phase's client token strings carry E2EE key material after the bearer token; clients of the REST
 * API only read the token segment, so the other three segments are random filler of the same shape.
 */
function phaseClientToken(kind: TokenKind, token: string): string {
  const filler = () => randomBytes(32).toString("hex");
  const prefix = kind === "USER" ? "pss_user:v1" : "pss_service:v2";
  return `${prefix}:${token}:${filler()}:${filler()}:${filler()}`;
}

export type Account = { kind: "USER"; id: string } | { kind: "SERVICE_ACCOUNT"; id: string };

const accountWhere = (a: Account) => (a.kind === "USER" ? { userId: a.id } : { serviceAccountId: a.id });

/** Users, service accounts, their tokens and environment grants. */
export function createIdentityService(deps: {
  identity: IdentityRepository;
  apps: Pick<AppRepository, "findApp" | "findEnvironmentsByNames">;
  clock: Clock;
  /** Where the bootstrap is recorded (`owner.bootstrap`); the management API records the rest. */
  audit?: AuditSink;
}) {
  const { identity } = deps;

  // Ids arrive from URLs and bodies: anything that is not a UUID cannot exist, and must not reach
  // a uuid column (Postgres would reject it as a type error, a 500).
  const findUser = (id: string) => (isUuid(id) ? identity.findUser(id) : Promise.resolve(null));
  const findServiceAccount = (id: string) => (isUuid(id) ? identity.findServiceAccount(id) : Promise.resolve(null));
  const findApp = (id: string) => (isUuid(id) ? deps.apps.findApp(id) : Promise.resolve(null));

  async function requireAccount(a: Account): Promise<void> {
    const found = a.kind === "USER" ? await findUser(a.id) : await findServiceAccount(a.id);
    if (!found) throw new NotFoundError(a.kind === "USER" ? "User not found" : "Service account not found");
  }

  async function requireApp(appId: string) {
    const app = await findApp(appId);
    if (!app) throw new NotFoundError(`App with ID ${appId} not found`);
    return app;
  }

  function issued(kind: TokenKind, row: { id: string; name: string; expiresAt: Date | null }, token: string): IssuedToken {
    return {
      id: row.id,
      name: row.name,
      token,
      phase_token: phaseClientToken(kind, token),
      authorization: `Bearer ${kind === "USER" ? "User" : "ServiceAccount"} ${token}`,
      expires_at: row.expiresAt ? row.expiresAt.toISOString() : null,
    };
  }

  async function issueToken(a: Account, name: string, expiresInSeconds?: number, raw?: string): Promise<IssuedToken> {
    await requireAccount(a);
    const token = raw ?? generateToken();
    const expiresAt = expiresInSeconds ? new Date(deps.clock.now().getTime() + expiresInSeconds * 1000) : null;
    const row = await identity.createToken({ kind: a.kind, ownerId: a.id, name, tokenHash: hashToken(token), expiresAt });
    return issued(a.kind, row, token);
  }

  return {
    issueToken,

    async revokeToken(a: Account, tokenId: string): Promise<void> {
      await requireAccount(a);
      const revoked = isUuid(tokenId) && (await identity.revokeToken(a.kind, a.id, tokenId, deps.clock.now()));
      if (!revoked) throw new NotFoundError("Token not found");
    },

    async listTokens(a: Account) {
      await requireAccount(a);
      return identity.listTokens(a.kind, a.id);
    },

    async createUser(input: { email: string; username?: string | undefined; fullName?: string | undefined; role: Role }) {
      try {
        return await identity.createUser({
          email: input.email.toLowerCase(),
          username: input.username ?? null,
          fullName: input.fullName ?? null,
          role: input.role,
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`A user with email '${input.email}' already exists.`);
        throw e;
      }
    },

    /** Service account names are unique among live accounts, case-insensitively. */
    async createServiceAccount(name: string) {
      const sa = await identity.createServiceAccountWithUniqueName(name);
      if (!sa) throw new ConflictError(`A service account named '${name}' already exists.`);
      return sa;
    },

    listUsers: () => identity.listUsers(),
    listServiceAccounts: () => identity.listServiceAccounts(),

    async getUser(id: string) {
      const u = await findUser(id);
      if (!u) throw new NotFoundError("User not found");
      return u;
    },

    async getServiceAccount(id: string) {
      const sa = await findServiceAccount(id);
      if (!sa) throw new NotFoundError("Service account not found");
      return sa;
    },

    /** Grants access to the named environments of an app (names match case-insensitively). */
    async grantAccess(a: Account, appId: string, environmentNames: string[]) {
      await requireAccount(a);
      await requireApp(appId);
      const envs = await deps.apps.findEnvironmentsByNames(appId, environmentNames);
      const missing = environmentNames.filter((n) => !envs.some((e) => e.nameLower === n.toLowerCase()));
      if (missing.length > 0) throw new NotFoundError(`Environment '${missing[0]}' not found in App ${appId}`);
      await identity.grantAccess(accountWhere(a), envs.map((e) => e.id));
      return identity.listAccess(accountWhere(a));
    },

    /** Revokes the named environments' grants; names the app lacks, or not granted, change nothing. */
    async revokeAccess(a: Account, appId: string, environmentNames: string[]) {
      await requireAccount(a);
      await requireApp(appId);
      const envs = await deps.apps.findEnvironmentsByNames(appId, environmentNames);
      await identity.revokeAccess(accountWhere(a), envs.map((e) => e.id));
      return identity.listAccess(accountWhere(a));
    },

    async listAccess(a: Account) {
      await requireAccount(a);
      return identity.listAccess(accountWhere(a));
    },

    /**
     * Creates the first Owner and its token when the server has no Owner. Returns null (and
     * creates nothing) when an Owner exists: a second bootstrap is refused.
     */
    async bootstrap(opts: { token?: string | undefined; email?: string }): Promise<IssuedToken | null> {
      if (opts.token !== undefined && !/^[0-9a-f]{64}$/.test(opts.token)) {
        throw new BadRequestError("The bootstrap token must be 64 lowercase hex characters.");
      }
      const token = opts.token ?? generateToken();
      const created = await identity.createFirstOwner({
        email: opts.email ?? "owner@leasehold.local",
        username: "owner",
        tokenName: "bootstrap",
        tokenHash: hashToken(token),
      });
      if (!created) return null;
      deps.audit?.record([
        systemEvent("owner.bootstrap", deps.clock.now(), {
          user: { id: created.user.id, email: created.user.email, role: created.user.role },
          token: { id: created.token.id, name: created.token.name, source: opts.token === undefined ? "generated" : "provided" },
        }),
      ]);
      return issued("USER", created.token, token);
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
