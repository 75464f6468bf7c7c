import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { createAwsIamProvider, type AwsIamConfig } from "../../src/providers/aws-iam.js";
import { ProviderError, type CreateContext } from "../../src/providers/provider.js";
import { ACCOUNT } from "../support/fake-iam-state.js";
import { startFakeIam, type FakeIam } from "../support/fake-iam.js";

const READ_POLICY = `arn:aws:iam::${ACCOUNT}:policy/ReadReports`;
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/LeaseBoundary`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/leasehold-admin`;
const DOC = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/*" }] };
const EXPIRES = new Date("2030-01-01T10:00:00.000Z");

const CREATE_SEQUENCE = ["CreateUser", "PutUserPolicy", "AttachUserPolicy", "AttachUserPolicy", "AddUserToGroup", "AddUserToGroup", "CreateAccessKey"];
const REVOKE_SEQUENCE = [
  "ListAccessKeys",
  "DeleteAccessKey",
  "ListUserPolicies",
  "DeleteUserPolicy",
  "ListAttachedUserPolicies",
  "DetachUserPolicy",
  "DetachUserPolicy",
  "ListGroupsForUser",
  "RemoveUserFromGroup",
  "RemoveUserFromGroup",
  "DeleteUser",
];

describe("AWS IAM provider against the fake IAM server", () => {
  let fake: FakeIam;
  const clock = new ManualClock(new Date());
  const provider = createAwsIamProvider({ clock });

  const config = (extra: Record<string, unknown> = {}): AwsIamConfig =>
    provider.configSchema.parse({
      region: "us-east-1",
      endpoint: fake.endpoint,
      access_key_id: fake.rootAccessKeyId,
      secret_access_key: fake.rootSecretAccessKey,
      iam_path: "leasehold/tests",
      policy_arns: `${READ_POLICY}, arn:aws:iam::aws:policy/ReadOnlyAccess`,
      groups: ["readers", `arn:aws:iam::${ACCOUNT}:group/team/auditors`],
      permission_boundary_arn: BOUNDARY,
      policy_document: DOC,
      ...extra,
    });
  const ctx = (leaseId = "lease-1"): CreateContext => ({ leaseId, roleName: "s3-read", expiresAt: EXPIRES, ttlSeconds: 3600 });
  async function issue(cfg = config(), leaseId = "lease-1") {
    const planned = provider.plan(cfg, ctx(leaseId));
    const cred = await provider.create(cfg, planned, ctx(leaseId));
    return { planned, cred, name: planned.identity };
  }

  beforeAll(async () => {
    fake = await startFakeIam();
    fake.addGroup("readers");
    fake.addGroup("auditors");
    fake.addPolicy(READ_POLICY);
    fake.addPolicy(BOUNDARY);
    fake.addRole(ROLE, "ext-1234");
  });
  afterEach(async () => {
    fake.clearFailures();
    fake.clearCalls();
    for (const u of fake.users()) await provider.revoke(config(), { identity: u.name });
    fake.clearCalls();
  });
  afterAll(async () => {
    await provider.close();
    await fake?.close();
  });

  it("create: user with path, boundary, lease tags, inline + attached policies, groups and one key", async () => {
    const { cred, name } = await issue();
    expect(name).toMatch(/^leasehold-[a-z0-9]{16}$/);
    expect(fake.actions()).toEqual(CREATE_SEQUENCE);
    expect(new Set(fake.calls().map((c) => c.accessKeyId))).toEqual(new Set([fake.rootAccessKeyId]));
    const [user, ...others] = fake.users();
    expect(others).toEqual([]);
    expect(user).toMatchObject({
      name,
      path: "/leasehold/tests/",
      arn: `arn:aws:iam::${ACCOUNT}:user/leasehold/tests/${name}`,
      boundary: BOUNDARY,
      tags: { "leasehold-lease-id": "lease-1", "leasehold-expires-at": "2030-01-01T10:00:00.000Z" },
      inlinePolicies: { "leasehold-inline-policy": JSON.stringify(DOC) },
      attachedPolicies: [READ_POLICY, "arn:aws:iam::aws:policy/ReadOnlyAccess"],
      groups: ["readers", "auditors"],
    });
    expect(user?.accessKeys).toEqual([cred.outputs.access_key_id]);
    expect(cred.outputs).toEqual({
      username: name,
      access_key_id: expect.stringMatching(/^AKIA[0-9A-Z]{16}$/),
      secret_access_key: expect.any(String),
    });
    expect(cred.revocation).toEqual({ identity: name, account: ACCOUNT });
  });

  it("the issued key really signs requests until revoke removes it", async () => {
    const { cred, name } = await issue();
    const sts = new STSClient({
      region: "us-east-1",
      endpoint: fake.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: cred.outputs.access_key_id as string, secretAccessKey: cred.outputs.secret_access_key as string },
    });
    try {
      const me = await sts.send(new GetCallerIdentityCommand({}));
      expect(me.Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/leasehold/tests/${name}`);
      await provider.revoke(config(), cred.revocation);
      await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: "InvalidClientTokenId" });
    } finally {
      sts.destroy();
    }
  });

  it("revoke removes keys, inline policies, attachments and groups, then the user", async () => {
    const { cred } = await issue();
    fake.clearCalls();
    await provider.revoke(config(), cred.revocation);
    expect(fake.actions()).toEqual(REVOKE_SEQUENCE);
    expect(fake.users()).toEqual([]);
  });

  it("revoke with the lease id checks the ownership tag first and never touches another lease's user", async () => {
    const { name } = await issue(config(), "lease-A");
    fake.clearCalls();
    await provider.revoke(config(), { identity: name }, { leaseId: "lease-B" });
    expect(fake.actions()).toEqual(["ListUserTags"]);
    expect(fake.users().map((u) => u.name)).toEqual([name]);
    fake.clearCalls();
    await provider.revoke(config(), { identity: name }, { leaseId: "lease-A" });
    expect(fake.actions()).toEqual(["ListUserTags", ...REVOKE_SEQUENCE]);
    expect(fake.users()).toEqual([]);
  });

  it("revoke twice is fine; a not-found soon after issue is retryable (IAM may not show the user yet)", async () => {
    const { cred } = await issue();
    const issuedAt = clock.now();
    await provider.revoke(config(), cred.revocation, { issuedAt });
    fake.clearCalls();
    await expect(provider.revoke(config(), cred.revocation)).resolves.toBeUndefined();
    // Gone: confirmed in the account the user was made in.
    expect(fake.actions()).toEqual(["ListAccessKeys", "GetCallerIdentity"]);
    const early = await provider.revoke(config(), cred.revocation, { issuedAt }).catch((e: unknown) => e);
    expect(early).toMatchObject({ retryable: true, code: "NotYetVisible" });
    expect(provider.classifyError(early)).toBe("retryable");
    clock.advance(120_000);
    await expect(provider.revoke(config(), cred.revocation, { issuedAt })).resolves.toBeUndefined();
  });

  it.each([
    ["PutUserPolicy", "AccessDenied", false],
    ["AttachUserPolicy", "AccessDenied", false],
    ["AddUserToGroup", "InvalidInput", false],
    ["CreateAccessKey", "Throttling", true],
    ["CreateAccessKey", "ServiceUnavailable", true],
  ])("a failing %s (%s) leaves no user behind and is classified retryable=%s", async (action, code, retryable) => {
    fake.failOn(action, { code });
    const planned = provider.plan(config(), ctx());
    const err = await provider.create(config(), planned, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ retryable, code, message: `AWS ${action} failed: ${code}: Injected ${code}` });
    expect(provider.classifyError(err)).toBe(retryable ? "retryable" : "permanent");
    expect(fake.users()).toEqual([]);
    const actions = fake.actions();
    expect(actions.slice(0, actions.indexOf(action) + 1)).toEqual(CREATE_SEQUENCE.slice(0, CREATE_SEQUENCE.indexOf(action) + 1));
    expect(actions.slice(actions.indexOf(action) + 1, actions.indexOf(action) + 2)).toEqual(["ListUserTags"]);
    expect(actions.at(-1)).toBe("DeleteUser");
  });

  it("a failing CreateUser creates nothing and cleans nothing", async () => {
    fake.failOn("CreateUser", { code: "Throttling" });
    const err = await provider.create(config(), provider.plan(config(), ctx()), ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, code: "Throttling" });
    expect(fake.actions()).toEqual(["CreateUser"]);
    expect(fake.users()).toEqual([]);
  });

  it("a policy IAM rejects as malformed is a permanent error, with the user cleaned up", async () => {
    const cfg = config({ policy_document: { Version: "2012-10-17" } });
    const err = await provider.create(cfg, provider.plan(cfg, ctx()), ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, code: "MalformedPolicyDocument" });
    expect(fake.users()).toEqual([]);
  });

  it("a step that does not see the fresh user yet is retryable (eventual consistency)", async () => {
    const planned = provider.plan(config(), ctx());
    fake.failOn("AttachUserPolicy", { code: "NoSuchEntity", message: `The user with name ${planned.identity} cannot be found.` });
    const err = await provider.create(config(), planned, ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, code: "NoSuchEntity" });
    expect(fake.users()).toEqual([]);
    fake.addPolicy(`arn:aws:iam::${ACCOUNT}:policy/Exists`);
    const missing = config({ policy_arns: [`arn:aws:iam::${ACCOUNT}:policy/Missing`] });
    const err2 = await provider.create(missing, provider.plan(missing, ctx()), ctx()).catch((e: unknown) => e);
    expect(err2).toMatchObject({ retryable: false, code: "NoSuchEntity" });
    expect(fake.users()).toEqual([]);
  });

  it("when cleanup fails too, the error says so and keeps the original classification", async () => {
    fake.failOn("CreateAccessKey", { code: "AccessDenied" });
    fake.failOn("DeleteUser", { code: "ServiceUnavailable" });
    const planned = provider.plan(config(), ctx());
    const err = (await provider.create(config(), planned, ctx()).catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toBe(
      "AWS CreateAccessKey failed: AccessDenied: Injected AccessDenied; cleanup incomplete: AWS DeleteUser failed: ServiceUnavailable: Injected ServiceUnavailable",
    );
    expect(err).toMatchObject({ retryable: false, code: "AccessDenied" });
    await provider.revoke(config(), { identity: planned.identity }, { leaseId: "lease-1" });
    expect(fake.users()).toEqual([]);
  });

  it("Throttling on DeleteAccessKey fails the revoke retryably; the retry finishes it", async () => {
    const { cred } = await issue();
    fake.failOn("DeleteAccessKey", { code: "Throttling" });
    const err = await provider.revoke(config(), cred.revocation).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, code: "Throttling", message: "AWS DeleteAccessKey failed: Throttling: Injected Throttling" });
    expect(fake.users()).toHaveLength(1);
    await provider.revoke(config(), cred.revocation);
    expect(fake.users()).toEqual([]);
  });

  it("a name collision: a leftover of this lease is removed (retryable), someone else's is left alone (permanent)", async () => {
    const planned = provider.plan(config(), ctx());
    fake.seedUser(planned.identity, { "leasehold-lease-id": "lease-1" });
    const mine = await provider.create(config(), planned, ctx()).catch((e: unknown) => e);
    expect(mine).toMatchObject({ retryable: true, code: "EntityAlreadyExists" });
    expect(fake.users()).toEqual([]);
    await provider.create(config(), planned, ctx()); // the lease layer's retry
    expect(fake.users().map((u) => u.name)).toEqual([planned.identity]);

    const other = provider.plan(config(), ctx("lease-2"));
    fake.seedUser(other.identity, { "leasehold-lease-id": "someone-else" });
    const theirs = await provider.create(config(), other, ctx("lease-2")).catch((e: unknown) => e);
    expect(theirs).toMatchObject({ retryable: false, code: "EntityAlreadyExists" });
    expect(fake.users().map((u) => u.name).sort()).toEqual([planned.identity, other.identity].sort());
  });

  it("role_arn: AssumeRole with the external id, then IAM calls signed with the session key", async () => {
    const p = createAwsIamProvider({ clock });
    try {
      const cfg = config({ role_arn: ROLE, external_id: "ext-1234" });
      const { cred } = await (async () => {
        const planned = p.plan(cfg, ctx());
        return { cred: await p.create(cfg, planned, ctx()) };
      })();
      const calls = fake.calls();
      expect(calls.map((c) => c.action)).toEqual(["AssumeRole", ...CREATE_SEQUENCE]);
      expect(calls[0]).toMatchObject({
        accessKeyId: fake.rootAccessKeyId,
        params: { RoleArn: ROLE, ExternalId: "ext-1234", RoleSessionName: "leasehold-dynamic-secrets" },
      });
      const session = new Set(calls.slice(1).map((c) => c.accessKeyId));
      expect(session.size).toBe(1);
      expect([...session][0]).toMatch(/^ASIA/);
      fake.clearCalls();
      await p.revoke(cfg, cred.revocation);
      expect(fake.actions()[0]).toBe("ListAccessKeys"); // cached session, no second AssumeRole
      expect(fake.users()).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it("role_arn with the wrong external id fails permanently and creates nothing", async () => {
    const p = createAwsIamProvider({ clock });
    try {
      const cfg = config({ role_arn: ROLE, external_id: "wrong-id" });
      const err = await p.create(cfg, p.plan(cfg, ctx()), ctx()).catch((e: unknown) => e);
      expect(err).toMatchObject({ retryable: false, code: "AccessDenied" });
      expect(fake.actions()).toEqual(["AssumeRole"]);
      expect(fake.users()).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it("testConnection: GetCallerIdentity works; a wrong secret is a permanent, scrubbed error", async () => {
    await provider.testConnection(config());
    expect(fake.actions()).toEqual(["GetCallerIdentity"]);
    const bad = config({ secret_access_key: "wrong-secret-value-xyz" });
    const err = (await provider.testConnection(bad).catch((e: unknown) => e)) as ProviderError;
    expect(err).toMatchObject({ retryable: false, code: "SignatureDoesNotMatch" });
    expect(err.message).not.toContain("wrong-secret-value-xyz");
  });

  it("follows pagination (Marker) in every List call", async () => {
    const small = await startFakeIam({ pageSize: 1 });
    const p = createAwsIamProvider({ clock });
    try {
      small.addGroup("readers");
      small.addGroup("auditors");
      small.addPolicy(READ_POLICY);
      small.addPolicy(BOUNDARY);
      const cfg = config({ endpoint: small.endpoint, access_key_id: small.rootAccessKeyId, secret_access_key: small.rootSecretAccessKey });
      const cred = await p.create(cfg, p.plan(cfg, ctx()), ctx());
      small.clearCalls();
      await p.revoke(cfg, cred.revocation, { leaseId: "lease-1" });
      const markers = small.calls().filter((c) => c.params.Marker !== undefined).map((c) => c.action);
      expect(markers).toEqual(["ListUserTags", "ListAttachedUserPolicies", "ListGroupsForUser"]);
      expect(small.users()).toEqual([]);
    } finally {
      await p.close();
      await small.close();
    }
  });

  it("keeps one client set per configuration and destroys them on close()", async () => {
    const p = createAwsIamProvider({ clock });
    const a = p.clientsFor(config());
    expect(p.clientsFor(config())).toBe(a);
    expect(p.clientsFor(config({ groups: [] }))).toBe(a);
    expect(p.clientsFor(config({ secret_access_key: "other" }))).not.toBe(a);
    await p.close();
    expect(p.clientsFor(config())).not.toBe(a);
    await p.close();
  });
});
