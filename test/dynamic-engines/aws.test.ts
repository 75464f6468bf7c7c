import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeIam, type FakeIam } from "../support/fake-iam.js";
import { engineFixture, type EngineFixture } from "./helpers.js";

/** The guide's AWS engine and s3-read role (fake IAM as AWS): IAM users with the role's policy. */
describe("aws engines", () => {
  let f: EngineFixture;
  let iam: FakeIam;
  const policy = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/*" }],
  };

  beforeAll(async () => {
    iam = await startFakeIam();
    iam.addGroup("readers");
    f = await engineFixture();
  });
  afterAll(async () => {
    await f?.close();
    await iam?.close();
  });

  it("engine and role as the guide writes them (root keys inline, plugin left out)", async () => {
    const engine = await f.call("POST", "/v1/dynamic/engines", f.admin, {
      name: "prod-aws",
      type: "aws",
      config: { region: "us-east-1", endpoint: iam.endpoint, root_credentials: { access_key_id: iam.rootAccessKeyId, secret_access_key: iam.rootSecretAccessKey } },
      default_ttl: "1h",
      max_ttl: "12h",
    });
    expect(engine.status).toBe(201);
    expect(engine.body).toMatchObject({ type: "aws", config: { plugin: "aws", region: "us-east-1", endpoint: iam.endpoint }, root_credentials_source: "inline" });
    expect(engine.text).not.toContain(iam.rootSecretAccessKey);
    const role = await f.call("POST", "/v1/dynamic/engines/prod-aws/roles", f.admin, {
      name: "s3-read",
      credential_type: "iam_user",
      policy_document: policy,
      groups: ["readers"],
      default_ttl: "30m",
      max_ttl: "2h",
    });
    expect(role.status).toBe(201);
    expect(role.body).toMatchObject({ name: "s3-read", credential_type: "iam_user", policy_document: policy, default_ttl: "30m", max_ttl: "2h" });
    const bad = await f.call("POST", "/v1/dynamic/engines/prod-aws/roles", f.admin, { name: "sts", credential_type: "assumed_role" });
    expect([bad.status, bad.body.code]).toEqual([400, "invalid_config"]);
    expect(bad.body.error).toMatch(/only 'iam_user' is supported/);
    const wrongKind = await f.call("POST", "/v1/dynamic/engines/prod-aws/roles", f.admin, { name: "sql", creation_statements: ["x"] });
    expect([wrongKind.status, wrongKind.body.code]).toEqual([400, "invalid_config"]);
  });

  it("creds are an IAM user with an access key; revoking deletes it; rotate-root is not supported", async () => {
    const r = await f.call("POST", "/v1/dynamic/engines/prod-aws/creds/s3-read", f.admin, {});
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.data)).toEqual(["username", "access_key_id", "secret_access_key"]);
    expect(r.body.lease_duration).toBe("30m");
    const [user, ...others] = iam.users();
    expect(others).toEqual([]);
    expect(user).toMatchObject({ name: r.body.data.username, groups: ["readers"], accessKeys: [r.body.data.access_key_id] });

    const over = await f.call("POST", "/v1/dynamic/engines/prod-aws/creds/s3-read", f.admin, { ttl: "3h" });
    expect([over.status, over.body.code]).toEqual([400, "ttl_exceeds_max"]);

    expect((await f.call("DELETE", `/v1/dynamic/leases/${r.body.lease_id}`, f.admin)).body.status).toBe("revoked");
    expect(iam.users()).toEqual([]);

    const rot = await f.call("POST", "/v1/dynamic/engines/prod-aws/rotate-root", f.admin);
    expect(rot.status).toBe(400);
    expect(rot.body).toEqual({ error: "Plugin 'aws' does not support root rotation.", code: "rotation_unsupported" });
  });
});
