import { describe, expect, it } from "vitest";
import { createAwsIamProvider } from "../../src/providers/aws-iam.js";
import { normalizeIamPath } from "../../src/providers/aws-iam-config.js";
import { ProviderError } from "../../src/providers/provider.js";

describe("AWS IAM provider: config, names and classification", () => {
  const provider = createAwsIamProvider();
  const base = { region: "eu-west-1", access_key_id: "AKIAEXAMPLE000000001", secret_access_key: "s3cr3t" };

  it("applies defaults and normalises paths, lists and group ARNs", () => {
    const c = provider.configSchema.parse({
      ...base,
      iam_path: "team/leases",
      policy_arns: "arn:aws:iam::123456789012:policy/A, arn:aws:iam::aws:policy/ReadOnlyAccess,",
      groups: "readers,arn:aws:iam::123456789012:group/division/auditors",
      policy_document: '{"Version":"2012-10-17","Statement":[]}',
    });
    expect(c).toMatchObject({
      username_template: "leasehold-{{random}}",
      iam_path: "/team/leases/",
      policy_arns: ["arn:aws:iam::123456789012:policy/A", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
      groups: ["readers", "auditors"],
      policy_document: '{"Version":"2012-10-17","Statement":[]}',
    });
    expect(provider.configSchema.parse(c)).toEqual(c); // parsing a parsed config is a no-op
    expect(provider.configSchema.parse({ ...base, policy_document: { Statement: [] } }).policy_document).toBe('{"Statement":[]}');
    expect(normalizeIamPath("")).toBe("/");
    expect(normalizeIamPath("//a/b//")).toBe("/a/b/");
    expect(provider.secretFields).toEqual(["secret_access_key"]);
  });

  it.each([
    [{ username_template: "fixed-name" }, "must contain {{random}}"],
    [{ username_template: "x-{{random}}-{{lease}}" }, "unknown template variable {{lease}}"],
    [{ username_template: `${"a".repeat(60)}{{random}}` }, "invalid IAM user name"],
    [{ external_id: "abc" }, "needs role_arn"],
    [{ secret_access_key: undefined }, "go together"],
    [{ access_key_id: undefined, secret_access_key: undefined }, "needs access_key_id + secret_access_key, or role_arn"],
    [{ policy_document: "{not json" }, "must be valid JSON"],
    [{ policy_document: "[1]" }, "must be a JSON object"],
    [{ policy_arns: ["arn:aws:iam::123:policy/x"] }, "must be IAM policy ARNs"],
    [{ role_arn: "arn:aws:iam::123456789012:user/x" }, "must be an IAM role ARN"],
    [{ region: "mars" }, "must be an AWS region"],
  ])("rejects %j", (extra, message) => {
    const r = provider.configSchema.safeParse({ ...base, ...extra });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join(" | ")).toContain(message);
  });

  it("plans names from the template with 16 random [a-z0-9]", () => {
    const c = provider.configSchema.parse({ ...base, username_template: "svc-{{ random }}@lease" });
    expect(provider.plan(c, { leaseId: "l", roleName: "r" })).toEqual({
      identity: expect.stringMatching(/^svc-[a-z0-9]{16}@lease$/),
      secrets: {},
    });
  });

  it("refuses role_arn without keys unless the server allows its own AWS identity", () => {
    const c = provider.configSchema.parse({ region: "us-east-1", role_arn: "arn:aws:iam::123456789012:role/r" });
    expect(() => provider.clientsFor(c)).toThrow(ProviderError);
    const ambient = createAwsIamProvider({ allowAmbientCredentials: true });
    expect(ambient.clientsFor(c)).toBeDefined();
    void ambient.close();
  });

  const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...extra });
  it.each([
    [sdkError("Throttling", 400, { Code: "Throttling" }), "retryable"],
    [sdkError("ServiceUnavailableException", 503), "retryable"],
    [sdkError("RequestTimeout", 400, { Code: "RequestTimeout" }), "retryable"],
    [sdkError("TimeoutError"), "retryable"],
    [Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "retryable"],
    [sdkError("DeleteConflictException", 409), "retryable"],
    [sdkError("ServiceFailureException", 500), "retryable"],
    [sdkError("AccessDenied", 403, { Code: "AccessDenied" }), "permanent"],
    [sdkError("InvalidInputException", 400), "permanent"],
    [sdkError("MalformedPolicyDocumentException", 400), "permanent"],
    [sdkError("NoSuchEntityException", 404), "permanent"],
  ])("classifies %s as %s", (err, expected) => {
    expect(provider.classifyError(err)).toBe(expected);
  });
});
