import type { Principal } from "../auth/principal.js";
import type { Role } from "../generated/prisma/enums.js";
import { assertCanAssignRole, assertCanManageUser } from "./policy.js";
import type { Account, IdentityService } from "./service.js";

/**
 * The identity operations the management API performs on behalf of a caller (`actor`): the same
 * service operations, with the role rules of ./policy.ts applied first. Internal callers (bootstrap,
 * tests setting up fixtures) use the IdentityService directly.
 */
export function createIdentityManagement(svc: IdentityService) {
  async function guard(actor: Principal, a: Account): Promise<void> {
    if (a.kind === "USER") assertCanManageUser(actor, await svc.getUser(a.id));
    else await svc.getServiceAccount(a.id);
  }

  return {
    async createUser(actor: Principal, input: { email: string; username?: string | undefined; fullName?: string | undefined; role: Role }) {
      assertCanAssignRole(actor, input.role);
      return svc.createUser(input);
    },

    async issueToken(actor: Principal, a: Account, name: string, expiresInSeconds?: number) {
      await guard(actor, a);
      return svc.issueToken(a, name, expiresInSeconds);
    },

    async revokeToken(actor: Principal, a: Account, tokenId: string) {
      await guard(actor, a);
      await svc.revokeToken(a, tokenId);
    },

    async grantAccess(actor: Principal, a: Account, appId: string, environmentNames: string[]) {
      await guard(actor, a);
      return svc.grantAccess(a, appId, environmentNames);
    },

    async revokeAccess(actor: Principal, a: Account, appId: string, environmentNames: string[]) {
      await guard(actor, a);
      return svc.revokeAccess(a, appId, environmentNames);
    },

    /** Reading (token metadata, grants) carries no secret and is open to every Owner and Admin. */
    listTokens: (a: Account) => svc.listTokens(a),
    listAccess: (a: Account) => svc.listAccess(a),
  };
}

export type IdentityManagement = ReturnType<typeof createIdentityManagement>;
