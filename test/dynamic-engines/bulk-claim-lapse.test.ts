import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresProvider } from "../../src/providers/postgresql.js";
import type { Provider } from "../../src/providers/provider.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTarget, roleExists, type Target } from "./helpers.js";

const CLAIM_TTL_MS = 120_000;
const PROVIDER_TIMEOUT_MS = 30_000;
/** Each revocation takes this long on the injected clock (a slow target). */
const CALL_MS = 25_000;

/**
 * revoke-prefix revokes inline, four at a time, under one claim for the whole batch. Calls that
 * would start with less than a provider call left on that claim are left to the reaper (the rows
 * are already REVOKING and due): past the claim, another instance's reaper may take them too.
 * Claim at T0 (until T0+120 s); four calls start at T0 and move the clock to T0+100 s; the other
 * two would start with 20 s left.
 */
describe("bulk revocation: queued calls whose claim runs out are left to the reaper", () => {
  let t: TestServer;
  let target: Target;
  const calls = new Map<string, number>();
  const real = createPostgresProvider();
  const slow: Provider = {
    ...(real as unknown as Provider),
    async revoke(config, revocation, ctx) {
      t.clock.advance(CALL_MS);
      calls.set(revocation.identity, (calls.get(revocation.identity) ?? 0) + 1);
      return real.revoke(config as never, revocation, ctx);
    },
  };
  const call = async (method: "get" | "post", path: string, body?: unknown) => {
    const r = t.http[method](path).set("Authorization", `Bearer ${t.ownerToken}`);
    return body === undefined ? r : r.set("Content-Type", "application/json").send(JSON.stringify(body));
  };

  beforeAll(async () => {
    target = await createTarget();
    t = await startTestServer({
      providers: [slow],
      env: { LEASEHOLD_REAPER_SCHEDULE: "off", LEASEHOLD_REAPER_CLAIM_TTL_MS: String(CLAIM_TTL_MS), LEASEHOLD_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS) },
    });
    const engine = {
      name: "slow-db",
      type: "database",
      config: { plugin: "postgresql", connection_url: target.connectionUrl, root_credentials: { username: target.root, password: target.rootPassword } },
    };
    expect((await call("post", "/v1/dynamic/engines", engine)).status).toBe(201);
    const role = { name: "r", creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`], revocation_statements: [`DROP ROLE IF EXISTS "{{name}}"`] };
    expect((await call("post", "/v1/dynamic/engines/slow-db/roles", role)).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await target?.drop([...calls.keys()]);
  });

  it("revokes four inline, leaves two pending and untouched; the reaper revokes those once the claim has run out", async () => {
    const users: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call("post", "/v1/dynamic/engines/slow-db/creds/r", {});
      expect(res.status).toBe(200);
      users.push(res.body.data.username as string);
    }
    const res = await call("post", "/v1/dynamic/leases/revoke-prefix", { prefix: "lease_", engine: "slow-db" });
    expect(res.body).toEqual({ engine: "slow-db", prefix: "lease_", requested: 6, revoked: 4, pending: 2 });
    const untouched = users.filter((u) => !calls.has(u));
    expect(untouched).toHaveLength(2);
    for (const u of untouched) expect(await roleExists(u)).toBe(true);

    t.clock.advance(CLAIM_TTL_MS); // the batch's claim has run out: the rows are the reaper's
    expect(await t.server.container.reaper.tick()).toMatchObject({ claimed: 2, revoked: 2 });
    expect(users.map((u) => calls.get(u))).toEqual([1, 1, 1, 1, 1, 1]);
    for (const u of users) expect(await roleExists(u)).toBe(false);
  });
});
