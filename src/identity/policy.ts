import type { Principal } from "../auth/principal.js";
import { ForbiddenError } from "../errors.js";
import type { Role } from "../generated/prisma/enums.js";

/**
 * Who may manage whom through the management API (which only Owners and Admins reach at all:
 * Developers and service accounts get 403 from requireAdmin before any of this runs).
 *
 * - An Owner may create users of any role, and manage any user's tokens and access.
 * - An Admin may create Developers only, and manage Developers and their own account, never
 *   another Owner or Admin: otherwise an Admin could mint a token for an Owner (and so become one)
 *   or revoke the Owner's tokens.
 * - Service accounts may be managed by any Owner or Admin.
 */
export function assertCanAssignRole(actor: Principal, role: Role): void {
  if (role === "DEVELOPER" || isOwner(actor)) return;
  throw new ForbiddenError("Only an Owner can create a user with the Owner or Admin role.");
}

export function assertCanManageUser(actor: Principal, target: { id: string; role: Role }): void {
  if (target.role === "DEVELOPER" || isOwner(actor) || (actor.kind === "user" && actor.id === target.id)) return;
  throw new ForbiddenError("Only an Owner can manage another Owner or Admin.");
}

function isOwner(p: Principal): boolean {
  return p.kind === "user" && p.role === "OWNER";
}
