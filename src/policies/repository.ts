import { randomUUID } from "node:crypto";
import type { Database } from "../db/database.js";
import { isRecordNotFound } from "../db/prisma-errors.js";
import type { Permission } from "./access.js";

/** One rule as stored (the `rules` jsonb array) and as shown on the wire. */
export interface PolicyRule {
  path_pattern: string;
  permissions: Permission[];
}

export interface PolicyRecord {
  id: string;
  name: string;
  rules: PolicyRule[];
  createdAt: Date;
  updatedAt: Date;
}

/** A binding's account: exactly one of the two ids. */
export type BoundAccount = { userId: string } | { serviceAccountId: string };

export interface BindingRecord {
  userId: string | null;
  serviceAccountId: string | null;
  createdAt: Date;
}

const toPolicy = (row: { id: string; name: string; rules: unknown; createdAt: Date; updatedAt: Date }): PolicyRecord => ({
  ...row,
  rules: row.rules as PolicyRule[],
});

const bindingSelect = { userId: true, serviceAccountId: true, createdAt: true } as const;

// The evaluation read: the patterns of every rule granting `permission` ($2) in the policies bound
// to one account ($1). One round trip, prepared once per connection.
const patternsSql = (column: "user_id" | "service_account_id") =>
  `SELECT DISTINCT r->>'path_pattern' AS pattern
     FROM policy_bindings b
     JOIN policies p ON p.id = b.policy_id
     CROSS JOIN LATERAL jsonb_array_elements(p.rules) AS r
    WHERE b.${column} = $1::uuid AND r->'permissions' ? $2`;
const USER_PATTERNS = patternsSql("user_id");
const SA_PATTERNS = patternsSql("service_account_id");

/** Policies and their bindings. Unique violations reach the service as Prisma errors. */
export function createPolicyRepository(db: Pick<Database, "prisma" | "query">) {
  const { prisma } = db;
  return {
    async create(name: string, rules: PolicyRule[]): Promise<PolicyRecord> {
      return toPolicy(await prisma.policy.create({ data: { id: randomUUID(), name, rules: rules as object[] } }));
    },

    async list(): Promise<PolicyRecord[]> {
      return (await prisma.policy.findMany({ orderBy: { name: "asc" } })).map(toPolicy);
    },

    async find(name: string): Promise<PolicyRecord | null> {
      const row = await prisma.policy.findUnique({ where: { name } });
      return row ? toPolicy(row) : null;
    },

    /** Replaces the rules; null when there is no such policy. */
    async replaceRules(name: string, rules: PolicyRule[]): Promise<PolicyRecord | null> {
      try {
        return toPolicy(await prisma.policy.update({ where: { name }, data: { rules: rules as object[] } }));
      } catch (e) {
        if (isRecordNotFound(e)) return null;
        throw e;
      }
    },

    /** Deletes the policy and (by cascade) its bindings; false when there was none. */
    async delete(name: string): Promise<boolean> {
      const { count } = await prisma.policy.deleteMany({ where: { name } });
      return count === 1;
    },

    async bind(policyId: string, account: BoundAccount): Promise<BindingRecord> {
      return prisma.policyBinding.create({ data: { id: randomUUID(), policyId, ...account }, select: bindingSelect });
    },

    /** False when the policy was not bound to that account. */
    async unbind(policyId: string, account: BoundAccount): Promise<boolean> {
      const { count } = await prisma.policyBinding.deleteMany({ where: { policyId, ...account } });
      return count === 1;
    },

    listBindings(policyId: string): Promise<BindingRecord[]> {
      return prisma.policyBinding.findMany({ where: { policyId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: bindingSelect });
    },

    /** The path patterns granting `permission` to the account, from every policy bound to it. */
    async patternsGranting(account: BoundAccount, permission: Permission): Promise<string[]> {
      const [sql, id, name] =
        "userId" in account
          ? [USER_PATTERNS, account.userId, "lh_policy_patterns_user"]
          : [SA_PATTERNS, account.serviceAccountId, "lh_policy_patterns_sa"];
      const rows = await db.query<{ pattern: string | null }>(sql, [id, permission], { name });
      return rows.flatMap((r) => (r.pattern ? [r.pattern] : []));
    },
  };
}

export type PolicyRepository = ReturnType<typeof createPolicyRepository>;
