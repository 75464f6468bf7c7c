import type { AuditSink, RequestMeta } from "../audit/events.js";
import { isUuid } from "../auth/environment-context.js";
import { isAdmin, type Principal } from "../auth/principal.js";
import type { Clock } from "../clock.js";
import { isForeignKeyViolation, isUniqueViolation } from "../db/prisma-errors.js";
import { ConflictError, NotFoundError } from "../errors.js";
import type { IdentityRepository } from "../identity/repository.js";
import { PERMISSIONS, type AccessPolicies, type Permission } from "./access.js";
import { compilePattern, patternError } from "./glob.js";
import type { BoundAccount, PolicyRecord, PolicyRepository, PolicyRule } from "./repository.js";

/** Who changes policies (an Owner or Admin, checked by the routes), for the audit trail. */
export interface PolicyActor {
  principal: Principal;
  meta: RequestMeta;
}

const MAX_COMPILED = 1000;

export interface PolicyServiceDeps {
  policies: PolicyRepository;
  identity: Pick<IdentityRepository, "findUser" | "findServiceAccount">;
  clock: Clock;
  audit: AuditSink;
}

/**
 * Access policies: CRUD for the management routes, bindings, and `allows()`, the check the
 * `/v1/dynamic/` routes make. Evaluation reads the database on every check (one query: the
 * patterns granting that permission to that account), so a change made through any instance
 * applies at once everywhere; only compiled patterns, a pure function of their text, are cached.
 */
export function createPolicyService(deps: PolicyServiceDeps) {
  const compiled = new Map<string, (path: string) => boolean>();
  const matcher = (pattern: string) => {
    let m = compiled.get(pattern);
    if (!m) {
      // Rows are validated on write; a pattern edited into the database by hand matches nothing.
      m = patternError(pattern) === null ? compilePattern(pattern) : () => false;
      if (compiled.size >= MAX_COMPILED) compiled.clear();
      compiled.set(pattern, m);
    }
    return m;
  };

  const access: AccessPolicies = {
    /** Owner/Admin: always. Everyone else: only a rule of a bound policy naming the permission. */
    async allows(principal: Principal, path: string, permission: Permission): Promise<boolean> {
      if (isAdmin(principal)) return true;
      if (!(PERMISSIONS as readonly string[]).includes(permission)) return false;
      const account: BoundAccount = principal.kind === "user" ? { userId: principal.id } : { serviceAccountId: principal.id };
      const patterns = await deps.policies.patternsGranting(account, permission);
      return patterns.some((p) => matcher(p)(path));
    },
  };
  return { allows: access.allows, ...management(deps) };
}

function management(deps: PolicyServiceDeps) {
  const { policies } = deps;
  const notFound = (name: string) => new NotFoundError(`Policy '${name}' not found`);

  async function requirePolicy(name: string): Promise<PolicyRecord> {
    const p = await policies.find(name);
    if (!p) throw notFound(name);
    return p;
  }

  /** The account must exist (and not be deleted); non-UUID ids cannot exist. */
  async function requireAccount(account: BoundAccount): Promise<void> {
    const found = !isUuid(idOf(account))
      ? null
      : "userId" in account
        ? await deps.identity.findUser(account.userId)
        : await deps.identity.findServiceAccount(account.serviceAccountId);
    if (!found) throw new NotFoundError("userId" in account ? "User not found" : "Service account not found");
  }

  const idOf = (a: BoundAccount) => ("userId" in a ? a.userId : a.serviceAccountId);
  const who = (a: BoundAccount) => ("userId" in a ? "user" : "service account");
  const accountMeta = (a: BoundAccount) => ("userId" in a ? { user_id: a.userId } : { service_account_id: a.serviceAccountId });

  function record(actor: PolicyActor, eventType: string, metadata: Record<string, unknown>): void {
    deps.audit.record([{ eventType, occurredAt: deps.clock.now(), principal: actor.principal, ...actor.meta, metadata }]);
  }

  return {
    async createPolicy(actor: PolicyActor, name: string, rules: PolicyRule[]): Promise<PolicyRecord> {
      let created: PolicyRecord;
      try {
        created = await policies.create(name, rules);
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`A policy named '${name}' already exists.`);
        throw e;
      }
      record(actor, "policy.create", { policy: name, rules });
      return created;
    },

    listPolicies: () => policies.list(),
    getPolicy: requirePolicy,

    async replaceRules(actor: PolicyActor, name: string, rules: PolicyRule[]): Promise<PolicyRecord> {
      const updated = await policies.replaceRules(name, rules);
      if (!updated) throw notFound(name);
      record(actor, "policy.update", { policy: name, rules });
      return updated;
    },

    async deletePolicy(actor: PolicyActor, name: string): Promise<void> {
      if (!(await policies.delete(name))) throw notFound(name);
      record(actor, "policy.delete", { policy: name });
    },

    async bind(actor: PolicyActor, name: string, account: BoundAccount) {
      const policy = await requirePolicy(name);
      await requireAccount(account);
      try {
        const binding = await policies.bind(policy.id, account);
        record(actor, "policy.bind", { policy: name, ...accountMeta(account) });
        return binding;
      } catch (e) {
        // A unique violation: already bound. A foreign-key violation: the policy or the account
        // was deleted between the checks above and the insert.
        if (isUniqueViolation(e)) throw new ConflictError(`Policy '${name}' is already bound to this ${who(account)}.`);
        if (isForeignKeyViolation(e)) throw notFound(name);
        throw e;
      }
    },

    async unbind(actor: PolicyActor, name: string, account: BoundAccount): Promise<void> {
      const policy = await requirePolicy(name);
      if (!isUuid(idOf(account)) || !(await policies.unbind(policy.id, account))) throw new NotFoundError(`Policy '${name}' is not bound to this ${who(account)}.`);
      record(actor, "policy.unbind", { policy: name, ...accountMeta(account) });
    },

    async listBindings(name: string) {
      return policies.listBindings((await requirePolicy(name)).id);
    },
  };
}

export type PolicyService = ReturnType<typeof createPolicyService>;
