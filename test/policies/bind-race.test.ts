import { afterAll, beforeAll, expect, it } from "vitest";
import { NotFoundError } from "../../src/errors.js";
import { createIdentityRepository } from "../../src/identity/repository.js";
import { createPolicyRepository } from "../../src/policies/repository.js";
import { createPolicyService } from "../../src/policies/service.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

it("a policy deleted between the bind's checks and its insert is a 404, not a 500, and nothing is bound", async () => {
  const c = t.server.container;
  const db = c.db;
  const repo = createPolicyRepository(db);
  // The race, made certain: the policy goes away right before the insert.
  const racing = { ...repo, bind: async (...args: Parameters<typeof repo.bind>) => (await repo.delete("vanishing"), repo.bind(...args)) };
  const svc = createPolicyService({ policies: racing, identity: createIdentityRepository(db), clock: c.clock, audit: c.audit });
  const owner = await c.authenticator.authenticate({ type: undefined, token: t.ownerToken });
  const actor = { principal: owner, meta: { ipAddress: "127.0.0.1", userAgent: "test" } };
  await svc.createPolicy(actor, "vanishing", [{ path_pattern: "dynamic/leases/**", permissions: ["revoke"] }]);
  const sa = await c.identityService.createServiceAccount("racer");

  const attempt = svc.bind(actor, "vanishing", { serviceAccountId: sa.id });
  await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
  await expect(attempt).rejects.toThrow("Policy 'vanishing' not found");
  expect(await t.db.query("SELECT count(*)::int AS n FROM policy_bindings")).toEqual([{ n: 0 }]);
});
