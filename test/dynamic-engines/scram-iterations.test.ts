import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineFixture, passwordWorks, readonlyRole, roleExists, supportDb, type EngineFixture } from "./helpers.js";

/** An engine's PostgreSQL role may set the SCRAM verifier's iteration count (scram_iterations). */
describe("/v1/dynamic/ PostgreSQL roles with scram_iterations", () => {
  let f: EngineFixture;
  beforeAll(async () => {
    f = await engineFixture();
    expect((await f.call("POST", "/v1/dynamic/engines", f.admin, supportDb(f.target))).status).toBe(201);
  });
  afterAll(async () => f?.close());

  it("leases of the role get a verifier at that count and work; an invalid count is 400 invalid_config", async () => {
    const role = { ...readonlyRole(f.target.root), name: "fast", scram_iterations: 1000 };
    const bad = await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, { ...role, scram_iterations: 0 });
    expect([bad.status, bad.body.code]).toEqual([400, "invalid_config"]);
    expect(bad.body.error).toMatch(/Invalid role\.scram_iterations/);
    expect((await f.call("POST", "/v1/dynamic/engines/support-db/roles", f.admin, role)).status).toBe(201);

    const creds = await f.call("POST", "/v1/dynamic/engines/support-db/creds/fast", f.admin, {});
    expect(creds.status).toBe(200);
    const { username, password } = creds.body.data as { username: string; password: string };
    const [stored] = await f.t.db.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [username]);
    expect(stored?.rolpassword).toMatch(/^SCRAM-SHA-256\$1000:/);
    expect(await passwordWorks(username, password)).toBe(true);

    expect((await f.call("DELETE", `/v1/dynamic/leases/${creds.body.lease_id}`, f.admin)).status).toBe(200);
    expect(await roleExists(username)).toBe(false);
  });
});
