import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT } from "../support/fake-iam-state.js";
import { startFakeIam, type FakeIam } from "../support/fake-iam.js";
import { passwordCheckingPostgres } from "../dynamic-engines/helpers.js";
import { createPgDefinition, META, pgConfig, rolesWithPrefix, startLeaseHarness, type LeaseHarness } from "./helpers.js";

/**
 * A definition's root credentials change while it has live leases (a rotated root password, a new
 * AWS key): the leases are revoked and renewed with the new ones, but only on the same target.
 * Credentials for another server or AWS account are never trusted to say a credential is gone.
 */
describe("leases after their definition's root credentials change", () => {
  let h: LeaseHarness;
  let iam: FakeIam;

  beforeAll(async () => {
    // The local server trusts every login: this provider checks root passwords as the server would.
    h = await startLeaseHarness({ providers: [passwordCheckingPostgres()] });
    iam = await startFakeIam();
  });
  afterAll(async () => {
    await h?.close();
    await iam?.close();
  });

  /** A root role for the definitions (its password is checked as scram-sha-256 would: see passwordCheckingPostgres). */
  async function rootRole(suffix: string, password: string): Promise<string> {
    const name = `${h.prefix}_${suffix}`;
    await h.t.db.query(`CREATE ROLE "${name}" WITH LOGIN CREATEROLE PASSWORD '${password}'`);
    return name;
  }
  const validUntil = async (role: string) =>
    (await h.t.db.query<{ v: Date }>("SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1", [role]))[0]?.v;
  /** A PUT of the definition's whole config (as the API takes it), with `changes`. */
  const pgUpdate = (id: string, changes: Record<string, unknown>) =>
    h.c.dynamicSecrets.update(h.owner, id, { config: pgConfig(h, { ...CREATE_ONLY, ...changes }), verifyConnection: false });
  const CREATE_ONLY = {
    creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`],
    revocation_statements: [`DROP ROLE IF EXISTS "{{name}}"`],
  };

  it("PostgreSQL: a lease made before the root password changed is renewed and revoked with the new password", async () => {
    const root = await rootRole("rotroot", "first-root-password");
    const def = await createPgDefinition(h, { name: "rotated", path: "/rotated", config: { ...CREATE_ONLY, username: root, password: "first-root-password" } });
    const { lease, credentials } = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const role = credentials.find((c) => c.key === "DB_USERNAME")!.value;
    expect(await rolesWithPrefix(h)).toContain(role);

    // The root password is rotated on the target, then in the definition: the old one no longer logs in.
    await h.t.db.query(`ALTER ROLE "${root}" PASSWORD 'second-root-password'`);
    await pgUpdate(def.id, { username: root, password: "second-root-password" });

    const before = await validUntil(role);
    await h.c.leases.renewLease(h.owner, META, { leaseId: lease.id, ttl: 600 });
    expect((await validUntil(role))!.getTime() - before!.getTime()).toBe(600_000);

    const result = await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id });
    expect(result.outcome).toBe("revoked");
    expect(await rolesWithPrefix(h)).not.toContain(role);
  });

  it("PostgreSQL: after a rotation, deleting the definition revokes its leases with the new password", async () => {
    const root = await rootRole("delroot", "first-root-password");
    const def = await createPgDefinition(h, { name: "deleted", path: "/deleted", config: { ...CREATE_ONLY, username: root, password: "first-root-password" } });
    const { credentials } = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const role = credentials.find((c) => c.key === "DB_USERNAME")!.value;
    await h.t.db.query(`ALTER ROLE "${root}" PASSWORD 'second-root-password'`);
    await pgUpdate(def.id, { username: root, password: "second-root-password" });

    await h.c.dynamicSecrets.delete(h.owner, def.id, { principal: h.owner });
    expect(await h.c.reaper.tick()).toMatchObject({ claimed: 1, revoked: 1, failed: 0 });
    expect(await rolesWithPrefix(h)).not.toContain(role);
  });

  // Another server, or another root user (on PostgreSQL 16+ only the role's creator may drop it):
  // a root that does not exist, so using it would fail here (elsewhere, find nothing and call the role gone).
  it.each([
    ["another database", { connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:5432/postgres" }],
    ["another root user", {}],
  ])("PostgreSQL: a definition pointed at %s keeps revoking its old leases with their own root", async (what, change) => {
    const root = await rootRole(`kept${what.length}`, "kept-root-password");
    const path = `/moved${what.length}`;
    const def = await createPgDefinition(h, { name: "moved", path, config: { ...CREATE_ONLY, username: root, password: "kept-root-password" } });
    const { lease, credentials } = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const role = credentials.find((c) => c.key === "DB_USERNAME")!.value;

    await pgUpdate(def.id, { ...change, username: `${h.prefix}_nobody`, password: "nobody-password" });

    const result = await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id });
    expect(result.outcome).toBe("revoked");
    expect(await rolesWithPrefix(h)).not.toContain(role);
  });

  type Key = { accessKeyId: string; secretAccessKey: string };
  const awsConfig = (key: Key) => ({ region: "us-east-1", endpoint: iam.endpoint, access_key_id: key.accessKeyId, secret_access_key: key.secretAccessKey, iam_path: "/rot/" });
  const awsDefinition = (name: string, key: Key) =>
    h.c.dynamicSecrets.create(h.owner, { environmentId: h.envId, path: `/${name}`, name, provider: "aws", config: awsConfig(key), defaultTtl: 3600, maxTtl: 7200, verifyConnection: false });
  const awsUpdate = (id: string, key: Key) => h.c.dynamicSecrets.update(h.owner, id, { config: awsConfig(key), verifyConnection: false });
  const userOf = (credentials: { key: string; value: string }[]) => credentials.find((c) => c.key === "AWS_IAM_USERNAME")!.value;

  it("AWS: a lease made with a root key since deleted is revoked with the new key of the same account", async () => {
    const oldKey = iam.addRootKey();
    const def = await awsDefinition("awsrot", oldKey);
    const { lease, credentials } = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const user = userOf(credentials);
    await awsUpdate(def.id, iam.addRootKey());
    iam.removeKey(oldKey.accessKeyId);

    const result = await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id });
    expect(result.outcome).toBe("revoked");
    expect(iam.users().map((u) => u.name)).not.toContain(user);
  });

  it("AWS: root credentials of another account never count the user as gone; the lease fails visibly", async () => {
    const def = await awsDefinition("awsmoved", iam.addRootKey());
    const { lease, credentials } = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const user = userOf(credentials);
    await awsUpdate(def.id, iam.addRootKey("111111111111"));
    h.t.clock.advance(180_000); // past IAM's consistency window: not found would now mean gone

    const result = await h.c.leases.revokeLease(h.owner, META, { leaseId: lease.id });
    expect(result).toMatchObject({
      outcome: "pending",
      error: `IAM user ${user} was created in AWS account ${ACCOUNT}, but the root credentials now act in account 111111111111: it cannot be found or removed with them.`,
    });
    const [row] = await h.t.db.query<{ status: string }>("SELECT status FROM leases WHERE id = $1", [lease.id]);
    expect(row!.status).toBe("REVOKE_FAILED");
    expect(iam.users().map((u) => u.name)).toContain(user);
  });
});
