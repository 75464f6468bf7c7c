import type { AuditSink, Caller } from "../audit/events.js";
import { auditedAccount, managementEvent } from "../audit/management-events.js";
import type { Clock } from "../clock.js";
import type { Role } from "../generated/prisma/enums.js";
import { assertCanAssignRole, assertCanManageUser } from "./policy.js";
import type { Account, IdentityService } from "./service.js";

type Grant = Awaited<ReturnType<IdentityService["listAccess"]>>[number];

/** The grants among `grants` of `appId` whose environment is named in `names` (case-insensitively). */
function grantsNamed(grants: Grant[], appId: string, names: string[]): Grant[] {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  return grants.filter((g) => g.environment.app.id === appId && wanted.has(g.environment.name.toLowerCase()));
}

/**
 * The identity operations the management API performs on behalf of a caller: the same service
 * operations, with the role rules of ./policy.ts applied first and an audit event recorded after
 * each change (never the token itself). Internal callers (bootstrap, tests setting up fixtures)
 * use the IdentityService directly.
 */
export function createIdentityManagement(svc: IdentityService, deps: { audit: AuditSink; clock: Clock }) {
  async function guard(caller: Caller, a: Account): Promise<void> {
    if (a.kind === "USER") assertCanManageUser(caller.principal, await svc.getUser(a.id));
    else await svc.getServiceAccount(a.id);
  }

  /** One event per environment a grant or revocation touched, so the environment filter finds it. */
  function recordAccess(type: "access.grant" | "access.revoke", caller: Caller, a: Account, grants: Grant[]): void {
    const at = deps.clock.now();
    deps.audit.record(
      grants.map((g) =>
        managementEvent(type, caller, at, {
          appId: g.environment.app.id,
          environmentId: g.environment.id,
          metadata: { account: auditedAccount(a), environment: g.environment.name },
        }),
      ),
    );
  }

  return {
    async createUser(caller: Caller, input: { email: string; username?: string | undefined; fullName?: string | undefined; role: Role }) {
      assertCanAssignRole(caller.principal, input.role);
      const user = await svc.createUser(input);
      deps.audit.record([
        managementEvent("user.create", caller, deps.clock.now(), { metadata: { user: { id: user.id, email: user.email, role: user.role } } }),
      ]);
      return user;
    },

    async createServiceAccount(caller: Caller, name: string) {
      const sa = await svc.createServiceAccount(name);
      deps.audit.record([
        managementEvent("service_account.create", caller, deps.clock.now(), { metadata: { service_account: { id: sa.id, name: sa.name } } }),
      ]);
      return sa;
    },

    async issueToken(caller: Caller, a: Account, name: string, expiresInSeconds?: number) {
      await guard(caller, a);
      const issued = await svc.issueToken(a, name, expiresInSeconds);
      deps.audit.record([
        managementEvent("token.create", caller, deps.clock.now(), {
          metadata: { account: auditedAccount(a), token: { id: issued.id, name: issued.name, expires_at: issued.expires_at } },
        }),
      ]);
      return issued;
    },

    async revokeToken(caller: Caller, a: Account, tokenId: string) {
      await guard(caller, a);
      await svc.revokeToken(a, tokenId);
      deps.audit.record([
        managementEvent("token.revoke", caller, deps.clock.now(), { metadata: { account: auditedAccount(a), token: { id: tokenId } } }),
      ]);
    },

    async grantAccess(caller: Caller, a: Account, appId: string, environmentNames: string[]) {
      await guard(caller, a);
      const access = await svc.grantAccess(a, appId, environmentNames);
      recordAccess("access.grant", caller, a, grantsNamed(access, appId, environmentNames));
      return access;
    },

    /** Only grants that existed are recorded as revoked (names not granted change nothing). */
    async revokeAccess(caller: Caller, a: Account, appId: string, environmentNames: string[]) {
      await guard(caller, a);
      const before = await svc.listAccess(a);
      const access = await svc.revokeAccess(a, appId, environmentNames);
      const remaining = new Set(access.map((g) => g.environment.id));
      recordAccess("access.revoke", caller, a, grantsNamed(before, appId, environmentNames).filter((g) => !remaining.has(g.environment.id)));
      return access;
    },

    /** Reading (token metadata, grants) carries no secret and is open to every Owner and Admin. */
    listTokens: (a: Account) => svc.listTokens(a),
    listAccess: (a: Account) => svc.listAccess(a),
  };
}

export type IdentityManagement = ReturnType<typeof createIdentityManagement>;
