import { describe, expect, it } from "vitest";
import { createAwsIamProvider } from "../../src/providers/aws-iam.js";
import { withCurrentRoot } from "../../src/providers/connection.js";
import { createPostgresProvider } from "../../src/providers/postgresql.js";

/** Which root credentials a lease is revoked with: the current ones only on the same target. */
describe("withCurrentRoot", () => {
  const pg = createPostgresProvider();
  const aws = createAwsIamProvider();
  const url = "postgresql://{{username}}:{{password}}@db:5432/app";
  const pgSnap = { connection_url: url, username: "root", password: "old", creation_statements: ["A"] };

  it("PostgreSQL: a new password on the same server and root user is taken, nothing else", () => {
    const current = { connection_url: url, username: "root", password: "new", creation_statements: ["B"] };
    expect(withCurrentRoot(pg, pgSnap, current, { identity: "r" })).toEqual({ config: { ...pgSnap, password: "new" }, sameTarget: true });
  });

  it.each([
    ["another server", { connection_url: "postgresql://{{username}}:{{password}}@other:5432/app", username: "root" }],
    ["another root user", { connection_url: url, username: "admin" }],
  ])("PostgreSQL: %s keeps the lease's own root", (_what, change) => {
    expect(withCurrentRoot(pg, pgSnap, { ...change, password: "new" }, { identity: "r" })).toEqual({ config: pgSnap, sameTarget: false });
  });

  const awsSnap = { region: "us-east-1", access_key_id: "AKIAOLD0000000000000", secret_access_key: "old", iam_path: "/" };
  const awsNow = { ...awsSnap, access_key_id: "AKIANEW0000000000000", secret_access_key: "new" };

  it("AWS: new keys are taken only for a user whose account is recorded (revoke checks the keys against it)", () => {
    expect(withCurrentRoot(aws, awsSnap, awsNow, { identity: "u", account: "000000000000" }).config).toEqual(awsNow);
    expect(withCurrentRoot(aws, awsSnap, awsNow, { identity: "u" }).config).toEqual(awsSnap);
  });

  it("AWS: another role (role_arn) or region is another target", () => {
    const role = { ...awsNow, role_arn: "arn:aws:iam::111111111111:role/x" };
    expect(withCurrentRoot(aws, awsSnap, role, { identity: "u", account: "000000000000" })).toEqual({ config: awsSnap, sameTarget: false });
    expect(withCurrentRoot(aws, awsSnap, { ...awsNow, region: "eu-west-1" }, { identity: "u", account: "0" }).sameTarget).toBe(false);
    // A field the current config no longer has (an endpoint removed) is a change of target too.
    const withEndpoint = { ...awsSnap, endpoint: "http://127.0.0.1:4566" };
    expect(withCurrentRoot(aws, withEndpoint, { ...awsNow, endpoint: undefined }, { identity: "u", account: "0" })).toEqual({ config: withEndpoint, sameTarget: false });
  });
});
