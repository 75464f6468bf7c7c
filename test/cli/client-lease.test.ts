import pg from "pg";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PHASE_TS, dynamicFixture, type DynamicFixture } from "../phase/dynamic-helpers.js";
import { UUID } from "../management/helpers.js";
import { expectFailure, runClient } from "./client-helpers.js";

let f: DynamicFixture;
let secretId: string;
beforeAll(async () => {
  f = await dynamicFixture();
  secretId = (await f.createPg({ name: "reports-reader", default_ttl: 3600, max_ttl: 7200 })).id;
});
afterAll(async () => f?.close());

/** As the fixture's service account (a raw 64-hex token: tried as ServiceAccount first). */
const lease = (args: string[], env: Record<string, string> = {}) =>
  runClient(["lease", ...args, "--app", f.appId, "--env", "Development"], { LEASEHOLD_HOST: f.t.url, LEASEHOLD_TOKEN: f.sa.token, ...env });

const leaseRow = async (id: string) =>
  (await f.t.db.query<{ status: string; expires_at: Date }>("SELECT status::text, expires_at FROM leases WHERE id = $1", [id]))[0]!;

async function currentUser(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ u: string }>("SELECT current_user AS u")).rows[0]!.u;
  } finally {
    await c.end();
  }
}

describe("leasehold run --leases against the PostgreSQL provider", () => {
  const run = (args: string[]) =>
    runClient(["run", "--app", f.appId, "--env", "Development", ...args], { LEASEHOLD_HOST: f.t.url, LEASEHOLD_TOKEN: f.sa.token });
  // The command logs in with the leased credentials, prints who it is, and exits 5.
  const LOGIN = `const pg = require("pg"); const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    c.connect().then(() => c.query("SELECT current_user AS u")).then((r) => { process.stdout.write(JSON.stringify({ user: r.rows[0].u, name: process.env.DB_USERNAME })); return c.end(); }).then(() => process.exit(5));`;

  it("the command gets a fresh lease's working credentials; the lease is revoked when the command exits", async () => {
    const r = await run(["--leases", "--lease-ttl", "600", "--", "node", "-e", LOGIN]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 5, stderr: "" });
    const { user, name } = JSON.parse(r.stdout) as { user: string; name: string };
    expect(user).toBe(name);
    expect(await f.rolesWithPrefix()).toEqual([]); // dropped on exit, not left to expire
    const rows = await f.t.db.query<{ status: string; ttl_seconds: number }>(
      "SELECT status::text, ttl_seconds FROM leases WHERE upstream_identity = $1", [name]);
    expect(rows).toEqual([{ status: "REVOKED", ttl_seconds: 600 }]);
  });

  it("without --leases no lease is taken; --lease-ttl alone is a usage error", async () => {
    const before = (await f.t.db.query("SELECT id FROM leases")).length;
    const r = await run(["--", "node", "-e", "process.exit(process.env.DB_USERNAME === undefined ? 0 : 9)"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect((await f.t.db.query("SELECT id FROM leases")).length).toBe(before);
    const bad = await run(["--lease-ttl", "60", "--", "node", "-e", "process.exit(0)"]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain("--lease-ttl needs --leases");
  });
});

describe("leasehold lease create|renew|revoke against the PostgreSQL provider", () => {
  it("create (json) makes a working role; renew extends the expiry; revoke removes the role", async () => {
    const created = await lease(["create", "--secret-id", secretId, "--ttl", "900", "--format", "json"]);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
    const doc = JSON.parse(created.stdout);
    expect(Object.keys(doc)).toEqual(["lease_id", "secret_id", "expires_at", "credentials"]);
    expect(doc).toMatchObject({ lease_id: expect.stringMatching(UUID), secret_id: secretId, expires_at: expect.stringMatching(PHASE_TS) });
    expect(Object.keys(doc.credentials)).toEqual(["DB_USERNAME", "DB_PASSWORD", "DATABASE_URL"]);
    const username: string = doc.credentials.DB_USERNAME;
    expect(await f.rolesWithPrefix()).toEqual([username]);
    expect(await currentUser(doc.credentials.DATABASE_URL)).toBe(username);
    const before = await leaseRow(doc.lease_id);
    expect(before.status).toBe("ACTIVE");
    expect(new Date(doc.expires_at).getTime()).toBe(before.expires_at.getTime());

    const renewed = await lease(["renew", "--lease-id", doc.lease_id, "--ttl", "600"]);
    expect({ code: renewed.code, stderr: renewed.stderr }).toEqual({ code: 0, stderr: "" });
    expect(renewed.stdout).toMatch(/^Lease renewed successfully\. Updated expiry: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00\n$/);
    expect((await leaseRow(doc.lease_id)).expires_at.getTime()).toBe(before.expires_at.getTime() + 600_000);

    const revoked = await lease(["revoke", "--lease-id", doc.lease_id]);
    expect(revoked).toMatchObject({ code: 0, stdout: "Lease revoked successfully\n", stderr: "" });
    expect(await f.rolesWithPrefix()).toEqual([]);
    expect((await leaseRow(doc.lease_id)).status).toBe("REVOKED");
    const again = await lease(["revoke", "--lease-id", doc.lease_id, "--format", "json"]);
    expect(again).toMatchObject({ code: 0, stdout: `{"message":"Lease was already revoked"}\n` });
  });

  it("create (dotenv, the default): credentials on stdout, lease id and expiry on stderr", async () => {
    const r = await lease(["create", "--secret-id", secretId]);
    expect(r.code).toBe(0);
    const m = /^leasehold: lease (\S+) expires at (\S+)\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(r.stdout).toMatch(/^DB_USERNAME=\S+\nDB_PASSWORD=\S+\nDATABASE_URL=\S+\n$/);
    const creds = parseEnv(r.stdout);
    expect(await f.rolesWithPrefix()).toEqual([creds["DB_USERNAME"]]);
    const row = await leaseRow(m![1]!);
    expect({ status: row.status, expires: row.expires_at.getTime() }).toEqual({ status: "ACTIVE", expires: new Date(m![2]!).getTime() });
    expect((await lease(["revoke", "--lease-id", m![1]!])).stdout).toBe("Lease revoked successfully\n");
    expect(await f.rolesWithPrefix()).toEqual([]);
  });

  it("the server's refusals: message and exit code, nothing created", async () => {
    expectFailure(await lease(["create", "--secret-id", secretId, "--ttl", "30"]), 65, "The specified TTL must be at least 60 seconds. (HTTP 400)");
    expectFailure(await lease(["create", "--secret-id", secretId, "--ttl", "9000"]), 65, "The specified TTL exceeds the maximum TTL for this dynamic secret. (HTTP 400)");
    const unknown = "00000000-0000-4000-8000-000000000000";
    expectFailure(await lease(["create", "--secret-id", unknown]), 66, "No dynamic secrets found (HTTP 404)");
    expectFailure(await lease(["renew", "--lease-id", unknown]), 66, "Lease not found (HTTP 404)");
    expectFailure(await lease(["revoke", "--lease-id", unknown]), 66, "Lease not found (HTTP 404)");
    expectFailure(await lease(["create", "--secret-id", secretId], { LEASEHOLD_TOKEN: "d".repeat(64) }), 77, "Token expired or deleted (HTTP 401)");
    expect(await f.rolesWithPrefix()).toEqual([]);
    expect((await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM leases WHERE status = 'ACTIVE'"))[0]!.n).toBe(0);
  });

  it("usage errors: 64", async () => {
    expectFailure(await lease(["create", "--secret-id", secretId, "--ttl", "1h"]), 64, "--ttl must be a whole number of seconds");
    expectFailure(await lease(["create"]), 64, "--secret-id is required");
    expectFailure(await lease(["renew"]), 64, "--lease-id is required");
    expectFailure(await lease(["revoke", "--lease-id", "x", "--format", "yaml"]), 64, "--format must be text or json");
    expectFailure(await lease(["extend"]), 64, "unknown lease command 'extend' (known: create, renew, revoke)");
    const help = await runClient(["help", "lease"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage:\n  leasehold lease create --app <id> --env <name> --secret-id <id>/);
  });
});
