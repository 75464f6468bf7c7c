import type { Role } from "../generated/prisma/enums.js";

/** Who is calling, as established by a token. */
export type Principal = UserPrincipal | ServiceAccountPrincipal;

export interface UserPrincipal {
  kind: "user";
  id: string;
  role: Role;
  email: string;
  username: string | null;
  fullName: string | null;
  tokenId: string;
  /** The account's own timestamps, as the token lookup read them (Phase shows them on a lease's owner). */
  createdAt: Date;
  updatedAt: Date;
}

export interface ServiceAccountPrincipal {
  kind: "service_account";
  id: string;
  name: string;
  tokenId: string;
}

/** Owners and Admins reach every app and environment and manage the server. */
export function isAdmin(p: Principal): boolean {
  return p.kind === "user" && (p.role === "OWNER" || p.role === "ADMIN");
}

/** The rate-limit and audit identity: one per account, shared by all of its tokens. */
export function accountKey(p: Principal): string {
  return p.kind === "user" ? `user_${p.id}` : `sa_${p.id}`;
}
