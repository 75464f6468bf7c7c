import type { Principal } from "../../auth/principal.js";
import type { Container } from "../../container.js";
import type { LeaseRecord } from "../../leases/types.js";
import type { Permission } from "../../policies/access.js";
import { EngineErrors } from "../errors.js";
import { wireLeaseId } from "../leases.js";

/** The synthetic policy paths of /v1/dynamic/ (src/policies/access.ts). */
export const paths = {
  engine: (engine: string) => `dynamic/engines/${engine}`,
  role: (engine: string, role: string) => `dynamic/engines/${engine}/roles/${role}`,
  lease: (leaseId: string) => `dynamic/leases/${wireLeaseId(leaseId)}`,
};

/** 403 permission_denied unless the policies allow it (read from the container at request time). */
export async function requireAllowed(c: Pick<Container, "policies">, p: Principal, path: string, permission: Permission, what: string): Promise<void> {
  if (!(await c.policies.allows(p, path, permission))) throw EngineErrors.permissionDenied(what);
}

export const ownsLease = (p: Principal, l: Pick<LeaseRecord, "ownerUserId" | "ownerServiceAccountId">) =>
  p.kind === "user" ? l.ownerUserId === p.id : l.ownerServiceAccountId === p.id;

/** The lease's owner may always; anyone else needs `permission` on the lease's path. */
export async function mayActOnLease(c: Pick<Container, "policies">, p: Principal, l: LeaseRecord, permission: Permission): Promise<boolean> {
  return ownsLease(p, l) || c.policies.allows(p, paths.lease(l.id), permission);
}
