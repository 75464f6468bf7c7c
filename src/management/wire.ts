import type { z } from "zod";
import type { Role } from "../generated/prisma/enums.js";
import {
  ROLE_NAMES,
  type accessResponse,
  type appResponse,
  type serviceAccountResponse,
  type tokenResponse,
  type userResponse,
} from "./schemas.js";

/** Service results → the snake_case wire shapes of ./schemas.ts. */

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

interface Timestamps {
  createdAt: Date;
  updatedAt: Date;
}

export function toApp(a: { id: string; name: string; environments: { id: string; name: string }[] } & Timestamps): z.input<typeof appResponse> {
  return {
    id: a.id,
    name: a.name,
    environments: a.environments.map((e) => ({ id: e.id, name: e.name })),
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
  };
}

export function toUser(
  u: { id: string; email: string; username: string | null; fullName: string | null; role: Role } & Timestamps,
): z.input<typeof userResponse> {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    full_name: u.fullName,
    role: ROLE_NAMES[u.role],
    created_at: iso(u.createdAt),
    updated_at: iso(u.updatedAt),
  };
}

export function toServiceAccount(sa: { id: string; name: string } & Timestamps): z.input<typeof serviceAccountResponse> {
  return { id: sa.id, name: sa.name, created_at: iso(sa.createdAt), updated_at: iso(sa.updatedAt) };
}

export function toToken(t: {
  id: string;
  name: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}): z.input<typeof tokenResponse> {
  return {
    id: t.id,
    name: t.name,
    expires_at: isoOrNull(t.expiresAt),
    revoked_at: isoOrNull(t.revokedAt),
    last_used_at: isoOrNull(t.lastUsedAt),
    created_at: iso(t.createdAt),
  };
}

type Grant = { environment: { id: string; name: string; app: { id: string; name: string } } };

/** Grants (one row per environment, ordered by app) grouped per app, in the order given. */
export function toAccessList(grants: Grant[]): z.input<typeof accessResponse> {
  const byApp = new Map<string, { app_id: string; app_name: string; environments: { id: string; name: string }[] }>();
  for (const { environment: env } of grants) {
    let entry = byApp.get(env.app.id);
    if (!entry) byApp.set(env.app.id, (entry = { app_id: env.app.id, app_name: env.app.name, environments: [] }));
    entry.environments.push({ id: env.id, name: env.name });
  }
  return [...byApp.values()];
}
