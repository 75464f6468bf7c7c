import { isAdmin, type Principal } from "../auth/principal.js";

/**
 * Access to the `/v1/dynamic/` surface is decided on synthetic paths (issue #4):
 * - `dynamic/engines/{engine}/roles/{role}` with `read`: mint credentials from that role
 * - `dynamic/engines/{engine}` with `manage`: create, change, delete the engine and its roles, rotate root
 * - `dynamic/leases/{lease_id}` with `revoke` (and `read` to look at it)
 * Owners and Admins always pass; everyone else is denied unless a bound policy allows it.
 */
export const PERMISSIONS = ["read", "list", "manage", "revoke", "rotate", "create", "update", "delete"] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface AccessPolicies {
  /** True when `principal` may do `permission` on `path`. Never throws for a plain "no". */
  allows(principal: Principal, path: string, permission: Permission): Promise<boolean>;
}

/** The seam before policies exist: Owner/Admin bypass, deny everyone else. */
export const adminOnlyPolicies: AccessPolicies = {
  allows: async (principal) => isAdmin(principal),
};
