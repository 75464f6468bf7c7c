import type { Principal } from "../auth/principal.js";
import type { Prisma } from "../db/database.js";
import type { LeaseRecord } from "./types.js";
import type { LeaseOwner } from "./view.js";

/** Looks up the owners of many leases in two queries. */
export function createOwnerLookup(prisma: Prisma) {
  return async function ownersOf(leases: Pick<LeaseRecord, "ownerUserId" | "ownerServiceAccountId">[]) {
    const userIds = [...new Set(leases.map((l) => l.ownerUserId).filter((v): v is string => !!v))];
    const saIds = [...new Set(leases.map((l) => l.ownerServiceAccountId).filter((v): v is string => !!v))];
    const [users, sas] = await Promise.all([
      userIds.length ? prisma.user.findMany({ where: { id: { in: userIds } } }) : [],
      saIds.length ? prisma.serviceAccount.findMany({ where: { id: { in: saIds } } }) : [],
    ]);
    const byId = new Map<string, LeaseOwner>();
    for (const u of users) byId.set(u.id, { type: "user", id: u.id, email: u.email, username: u.username, fullName: u.fullName, role: u.role, createdAt: u.createdAt, updatedAt: u.updatedAt });
    for (const s of sas) byId.set(s.id, { type: "service_account", id: s.id, name: s.name });
    return (l: Pick<LeaseRecord, "ownerUserId" | "ownerServiceAccountId">): LeaseOwner | null =>
      byId.get(l.ownerUserId ?? l.ownerServiceAccountId ?? "") ?? null;
  };
}

export type OwnerLookup = ReturnType<typeof createOwnerLookup>;

/** The owner as the caller's own principal describes it (no query: a lease just created by them). */
export function ownerFromPrincipal(p: Principal): LeaseOwner {
  return p.kind === "user"
    ? { type: "user", id: p.id, email: p.email, username: p.username, fullName: p.fullName, role: p.role, createdAt: p.createdAt, updatedAt: p.updatedAt }
    : { type: "service_account", id: p.id, name: p.name };
}
