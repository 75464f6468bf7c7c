import { CreateAccessKeyCommand, CreateUserCommand, DeleteUserCommand, IAMClient, ListUsersCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeIam, type FakeIam } from "../support/fake-iam.js";

/** The fake's own contract: what the provider tests rely on it to enforce. */
describe("fake IAM server", () => {
  let fake: FakeIam;
  let iam: IAMClient;
  beforeAll(async () => {
    fake = await startFakeIam();
    iam = new IAMClient({
      region: "us-east-1",
      endpoint: fake.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: fake.rootAccessKeyId, secretAccessKey: fake.rootSecretAccessKey },
    });
  });
  afterAll(async () => {
    iam?.destroy();
    await fake?.close();
  });

  it("refuses DeleteUser while the user still has an access key (DeleteConflict), like IAM", async () => {
    await iam.send(new CreateUserCommand({ UserName: "conflicted" }));
    await iam.send(new CreateAccessKeyCommand({ UserName: "conflicted" }));
    await expect(iam.send(new DeleteUserCommand({ UserName: "conflicted" }))).rejects.toMatchObject({
      name: "DeleteConflictException",
      message: "Cannot delete entity, must delete access keys first.",
      $metadata: { httpStatusCode: 409 },
    });
    await expect(iam.send(new CreateUserCommand({ UserName: "conflicted" }))).rejects.toMatchObject({ name: "EntityAlreadyExistsException" });
    await expect(iam.send(new DeleteUserCommand({ UserName: "nobody" }))).rejects.toMatchObject({ name: "NoSuchEntityException" });
  });

  it("injects failures once, N times or always, and records every signed call", async () => {
    fake.clearCalls();
    fake.failOn("DeleteUser", { code: "Throttling", times: 2 });
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      codes.push(await iam.send(new DeleteUserCommand({ UserName: "nobody" })).then(() => "ok", (e: Error) => e.name));
    }
    expect(codes).toEqual(["Throttling", "Throttling", "NoSuchEntityException"]);
    fake.failOn("CreateUser", { code: "ServiceUnavailable", times: "always" });
    for (let i = 0; i < 2; i++) {
      await expect(iam.send(new CreateUserCommand({ UserName: `u${i}` }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    }
    fake.clearFailures();
    expect(fake.actions()).toEqual(["DeleteUser", "DeleteUser", "DeleteUser", "CreateUser", "CreateUser"]);
    expect(fake.calls()[3]).toEqual({ action: "CreateUser", accessKeyId: fake.rootAccessKeyId, params: { Action: "CreateUser", Version: "2010-05-08", UserName: "u0" } });
  });

  it("rejects unsigned, unknown-key and badly signed requests, and unknown actions", async () => {
    const res = await fetch(fake.endpoint, { method: "POST", body: "Action=ListUsers&Version=2010-05-08", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<Code>MissingAuthenticationToken</Code>");
    const stranger = new IAMClient({ region: "us-east-1", endpoint: fake.endpoint, maxAttempts: 1, credentials: { accessKeyId: "AKIASTRANGER00000000", secretAccessKey: "x" } });
    const forged = new IAMClient({ region: "us-east-1", endpoint: fake.endpoint, maxAttempts: 1, credentials: { accessKeyId: fake.rootAccessKeyId, secretAccessKey: "forged" } });
    try {
      await expect(stranger.send(new ListUsersCommand({}))).rejects.toMatchObject({ name: "InvalidClientTokenId" });
      await expect(forged.send(new ListUsersCommand({}))).rejects.toMatchObject({ name: "SignatureDoesNotMatch" });
      await expect(iam.send(new ListUsersCommand({}))).rejects.toMatchObject({ name: "InvalidAction" });
    } finally {
      stranger.destroy();
      forged.destroy();
    }
  });
});
