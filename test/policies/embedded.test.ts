import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import supertest from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDataDir, startEmbedded, type EmbeddedServer } from "../embedded/support.js";

/** The evaluation query (jsonb `?`, a prepared statement) and the routes on the embedded database. */
describe("access policies on the embedded database (PGlite)", { timeout: 60_000 }, () => {
  let dir: string;
  let s: EmbeddedServer;
  const owner = randomBytes(32).toString("hex");
  beforeAll(async () => {
    dir = await freshDataDir();
    s = await startEmbedded(dir, { LEASEHOLD_BOOTSTRAP_TOKEN: owner });
  });
  afterAll(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a bound service account is allowed exactly what its rules list; unbinding denies at once", async () => {
    const http = supertest(s.server.url);
    const auth = { Authorization: `Bearer ${owner}` };
    const rules = [{ path_pattern: "dynamic/engines/*/roles/ro", permissions: ["read"] }];
    expect((await http.post("/v1/policies/").set(auth).send({ name: "ro", rules })).status).toBe(201);
    const sa = await http.post("/v1/service-accounts/").set(auth).send({ name: "ci" });
    const token = await http.post(`/v1/service-accounts/${sa.body.id}/tokens/`).set(auth).send({ name: "t" });
    const bound = await http.post("/v1/policies/ro/bindings/").set(auth).send({ service_account_id: sa.body.id });
    expect(bound.status).toBe(201);

    const c = s.server.container;
    const principal = await c.authenticator.authenticate({ type: "ServiceAccount", token: token.body.token });
    const check = async () => [
      await c.policies.allows(principal, "dynamic/engines/pg/roles/ro", "read"),
      await c.policies.allows(principal, "dynamic/engines/pg/roles/ro", "manage"),
      await c.policies.allows(principal, "dynamic/engines/pg/roles/rw", "read"),
    ];
    expect(await check()).toEqual([true, false, false]);
    expect((await http.delete(`/v1/policies/ro/bindings/?service_account_id=${sa.body.id}`).set(auth)).status).toBe(204);
    expect(await check()).toEqual([false, false, false]);
  });
});
