import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeIam, type FakeIam } from "../support/fake-iam.js";
import { dynamicFixture, type DynamicFixture } from "./dynamic-helpers.js";

const READ_POLICY = "arn:aws:iam::000000000000:policy/ReadReports";

/** The golang-sdk's calls against a definition of the `aws` provider, with the fake IAM server as AWS. */
describe("dynamic secrets with the aws provider (fake IAM)", () => {
  let f: DynamicFixture;
  let iam: FakeIam;
  let secretId: string;

  beforeAll(async () => {
    iam = await startFakeIam();
    iam.addPolicy(READ_POLICY);
    iam.addGroup("readers");
    f = await dynamicFixture();
    const res = await f.call("POST", f.url(), f.owner.auth, {
      name: "s3-reader",
      path: "/aws",
      provider: "aws",
      config: {
        region: "us-east-1",
        endpoint: iam.endpoint,
        access_key_id: iam.rootAccessKeyId,
        secret_access_key: iam.rootSecretAccessKey,
        iam_path: "/leasehold/",
        policy_arns: [READ_POLICY],
        groups: "readers",
      },
      default_ttl: 3600,
      max_ttl: 86_400,
    });
    expect(res.status).toBe(201);
    expect(res.body.keyMap.map((k: { keyName: string }) => k.keyName)).toEqual(["AWS_IAM_USERNAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    expect(res.body.provider).toBe("aws");
    secretId = res.body.id;
  });
  afterAll(async () => {
    await f?.close();
    await iam?.close();
  });

  const generate = () => f.call("GET", f.url("", { id: secretId, lease: "true", ttl: "900" }), f.sa.auth);

  it("a lease is a working IAM user with a key; renew keeps it; revoke deletes it", async () => {
    const res = await generate();
    expect(res.status).toBe(200);
    const lease = res.body[0].lease;
    expect(lease).toMatchObject({ ttl: "00:15:00", status: "active", secret: secretId });
    const creds = Object.fromEntries(lease.credentials.map((c: { key: string; value: string }) => [c.key, c.value]));
    expect(Object.keys(creds)).toEqual(["AWS_IAM_USERNAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    const [user, ...others] = iam.users();
    expect(others).toEqual([]);
    expect(user).toMatchObject({ name: creds["AWS_IAM_USERNAME"], path: "/leasehold/", attachedPolicies: [READ_POLICY], groups: ["readers"], accessKeys: [creds["AWS_ACCESS_KEY_ID"]] });

    // The issued key signs requests as the new user.
    const sts = new STSClient({
      region: "us-east-1",
      endpoint: iam.endpoint,
      credentials: { accessKeyId: creds["AWS_ACCESS_KEY_ID"], secretAccessKey: creds["AWS_SECRET_ACCESS_KEY"] },
    });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(user!.arn);
    sts.destroy();

    const renewed = await f.call("PUT", f.url("leases/"), f.sa.auth, { lease_id: lease.id, ttl: 600 });
    expect(renewed.status).toBe(200);
    expect(renewed.body.message).toMatch(/^Lease renewed successfully\. Updated expiry: /);
    expect(iam.users().map((u) => u.name)).toEqual([user!.name]);

    iam.clearCalls();
    expect(await f.call("DELETE", f.url("leases/"), f.sa.auth, { lease_id: lease.id })).toMatchObject({ status: 200, body: { message: "Lease revoked successfully" } });
    expect(iam.users()).toEqual([]);
    expect(iam.actions()).toContain("DeleteUser");
  });

  it("IAM failing on create: Phase's 500 and no user left; failing on revoke: 500, then the reaper finishes", async () => {
    iam.failOn("CreateAccessKey", { code: "AccessDenied" });
    expect(await generate()).toMatchObject({ status: 500, body: { error: "An internal error occurred while creating the lease" } });
    expect(iam.users()).toEqual([]);

    const lease = (await generate()).body[0].lease;
    iam.failOn("DeleteUser", { code: "ServiceFailure" });
    expect(await f.call("DELETE", f.url("leases/"), f.sa.auth, { lease_id: lease.id })).toMatchObject({
      status: 500,
      body: { error: "An internal error occurred while revoking the lease" },
    });
    const listed = await f.call("GET", f.url("leases/", { secret_id: secretId }), f.sa.auth);
    expect(listed.body.find((l: { id: string }) => l.id === lease.id)).toMatchObject({ status: "revoking" });
    expect(iam.users()).toHaveLength(1);
    f.t.clock.advance(5_000);
    await f.c.reaper.tick();
    expect(iam.users()).toEqual([]);
    const again = await f.call("GET", f.url("leases/", { secret_id: secretId }), f.sa.auth);
    expect(again.body.find((l: { id: string }) => l.id === lease.id)).toMatchObject({ status: "revoked" });
  });

  it("the root secret access key never appears in a response", () => {
    expect(f.bodies.length).toBeGreaterThan(5);
    for (const b of f.bodies) expect(b).not.toContain(iam.rootSecretAccessKey);
  });
});
