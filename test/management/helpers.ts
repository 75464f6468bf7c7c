import { expect } from "vitest";
import type { TestServer } from "../support/server.js";

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
export const HEX64 = /^[0-9a-f]{64}$/;

/** Creates an app through the API as the Owner and returns its body. */
export async function createApp(t: TestServer, name: string, environments?: string[]) {
  const res = await t.http
    .post("/v1/apps/")
    .set(bearer(t.ownerToken))
    .send(environments ? { name, environments } : { name });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; environments: { id: string; name: string }[] };
}

/** Creates a user with `role` through the API as the Owner, and a token for them. */
export async function createUserWithToken(t: TestServer, email: string, role: "Owner" | "Admin" | "Developer") {
  const user = await t.http.post("/v1/users/").set(bearer(t.ownerToken)).send({ email, role });
  expect(user.status).toBe(201);
  const token = await t.http.post(`/v1/users/${user.body.id}/tokens/`).set(bearer(t.ownerToken)).send({ name: "t" });
  expect(token.status).toBe(201);
  return { id: user.body.id as string, token: token.body.token as string };
}

/** Creates a service account through the API as the Owner, and a token for it. */
export async function createServiceAccountWithToken(t: TestServer, name: string) {
  const sa = await t.http.post("/v1/service-accounts/").set(bearer(t.ownerToken)).send({ name });
  expect(sa.status).toBe(201);
  const token = await t.http.post(`/v1/service-accounts/${sa.body.id}/tokens/`).set(bearer(t.ownerToken)).send({ name: "t" });
  expect(token.status).toBe(201);
  return { id: sa.body.id as string, token: token.body.token as string };
}
