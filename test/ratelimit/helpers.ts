import { randomBytes } from "node:crypto";
import type { TestServer } from "../support/server.js";

/** Accounts made through the services, so setting them up spends nobody's rate-limit bucket. */
export async function adminWithTokens(t: TestServer, count = 1) {
  const svc = t.server.container.identityService;
  const user = await svc.createUser({ email: `admin-${randomBytes(4).toString("hex")}@example.com`, role: "ADMIN" });
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) tokens.push((await svc.issueToken({ kind: "USER", id: user.id }, `t${i}`)).token);
  return { id: user.id, tokens };
}

export async function serviceAccountWithTokens(t: TestServer, count = 1) {
  const svc = t.server.container.identityService;
  const sa = await svc.createServiceAccount(`sa-${randomBytes(4).toString("hex")}`);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) tokens.push((await svc.issueToken({ kind: "SERVICE_ACCOUNT", id: sa.id }, `t${i}`)).token);
  return { id: sa.id, tokens };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Phase's throttled body, byte for byte. */
export const throttledBody = (seconds: number) =>
  `{"error":"Request was throttled. Expected available in ${seconds} second${seconds === 1 ? "" : "s"}."}`;
