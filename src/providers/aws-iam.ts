import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  paginateListAccessKeys,
  paginateListAttachedUserPolicies,
  paginateListGroupsForUser,
  paginateListUserPolicies,
  paginateListUserTags,
  type IAMClient,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { systemClock, type Clock } from "../clock.js";
import { createAwsClientCache, type AwsClients } from "./aws-iam-clients.js";
import { awsIamConfigSchema, RANDOM_LENGTH, USERNAME_RE, type AwsIamConfig } from "./aws-iam-config.js";
import { awsErrorCode, awsProviderError, classifyAwsError } from "./aws-iam-errors.js";
import { NOT_YET_VISIBLE, ProviderError, type Provider, type RevokeContext } from "./provider.js";
import { LOWER_ALNUM, randomString, type RandomSource } from "./random.js";
import { renderTemplate } from "./templates.js";

export type { AwsIamConfig } from "./aws-iam-config.js";

export interface AwsIamProviderOptions {
  clock?: Clock;
  random?: RandomSource;
  /** SDK attempts per call (default 1): retries belong to the lease layer, with its backoff. */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /**
   * How long after issue a NoSuchEntity on revoke means "not visible yet" (IAM is eventually
   * consistent) rather than "gone": the revoke then fails retryably and the lease layer retries.
   */
  consistencyWindowMs?: number;
  /** Allow role_arn without access keys, i.e. AssumeRole with the server's own AWS identity. */
  allowAmbientCredentials?: boolean;
}

export interface AwsIamProvider extends Provider<AwsIamConfig> {
  clientsFor(config: AwsIamConfig): AwsClients;
}

export const LEASE_TAG = "leasehold-lease-id";
export const EXPIRES_TAG = "leasehold-expires-at";
export const INLINE_POLICY_NAME = "leasehold-inline-policy";

/** The account id in an IAM ARN (`arn:aws:iam::123456789012:user/…`). */
const accountOfArn = (arn: string | undefined) => /^arn:[\w-]+:iam::(\d{12}):/.exec(arn ?? "")?.[1];

/**
 * Dynamic AWS IAM users: CreateUser (path, boundary, lease tags) → PutUserPolicy → AttachUserPolicy
 * → AddUserToGroup → CreateAccessKey. A failure after CreateUser removes everything through the
 * revoke path before the error is thrown. Revoke deletes keys, inline policies, attachments and
 * group memberships, then the user; NoSuchEntity means already gone.
 *
 * Eventual consistency: IAM may briefly answer NoSuchEntity for a user it just created. In create,
 * a step that cannot see the new user fails retryably (after cleanup), so the lease layer's retry
 * runs create again. In revoke, a NoSuchEntity on the first call within `consistencyWindowMs` of
 * `ctx.issuedAt` is a retryable "NotYetVisible" error instead of a success, so the lease layer
 * retries until the user is visible (and deleted) or the window has passed (then it really is gone).
 * Callers must therefore pass `{ leaseId, issuedAt }` from the lease row when revoking.
 */
export function createAwsIamProvider(opts: AwsIamProviderOptions = {}): AwsIamProvider {
  const clock = opts.clock ?? systemClock;
  const windowMs = opts.consistencyWindowMs ?? 120_000;
  const clients = createAwsClientCache({ clock, maxAttempts: opts.maxAttempts ?? 1, requestTimeoutMs: opts.requestTimeoutMs ?? 15_000 });

  function clientsFor(config: AwsIamConfig): AwsClients {
    if (config.role_arn && !config.access_key_id && !opts.allowAmbientCredentials) {
      throw new ProviderError("role_arn without access keys needs the server's own AWS identity, which is not enabled.", false, "config");
    }
    return clients.get(config);
  }

  /** Runs one SDK call; failures become scrubbed ProviderErrors naming the action. */
  async function step<T>(action: string, secrets: (string | undefined)[], fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw awsProviderError(action, err, secrets);
    }
  }

  async function collect<T>(action: string, secrets: (string | undefined)[], pages: AsyncIterable<T>): Promise<T[]> {
    return step(action, secrets, async () => {
      const out: T[] = [];
      for await (const p of pages) out.push(p);
      return out;
    });
  }

  /** The revoke path, shared with create's cleanup. "foreign": tagged for another lease, untouched. */
  async function removeUser(
    iam: IAMClient,
    UserName: string,
    ctx: RevokeContext,
    secrets: (string | undefined)[],
  ): Promise<"removed" | "absent" | "foreign"> {
    const client = { client: iam };
    const gone = (err: unknown) => err instanceof ProviderError && err.code === "NoSuchEntity";
    const tolerate = (p: Promise<unknown>) => p.catch((err: unknown) => (gone(err) ? undefined : Promise.reject(err)));
    let first = true;
    try {
      if (ctx.leaseId) {
        const pages = await collect("ListUserTags", secrets, paginateListUserTags(client, { UserName }));
        first = false;
        const owner = pages.flatMap((p) => p.Tags ?? []).find((t) => t.Key === LEASE_TAG)?.Value;
        if (owner !== ctx.leaseId) return "foreign"; // not a user this lease created: never touch it
      }
      const keys = await collect("ListAccessKeys", secrets, paginateListAccessKeys(client, { UserName }));
      first = false;
      for (const k of keys.flatMap((p) => p.AccessKeyMetadata ?? [])) {
        await tolerate(step("DeleteAccessKey", secrets, () => iam.send(new DeleteAccessKeyCommand({ UserName, AccessKeyId: k.AccessKeyId }))));
      }
      const inline = await collect("ListUserPolicies", secrets, paginateListUserPolicies(client, { UserName }));
      for (const PolicyName of inline.flatMap((p) => p.PolicyNames ?? [])) {
        await tolerate(step("DeleteUserPolicy", secrets, () => iam.send(new DeleteUserPolicyCommand({ UserName, PolicyName }))));
      }
      const attached = await collect("ListAttachedUserPolicies", secrets, paginateListAttachedUserPolicies(client, { UserName }));
      for (const p of attached.flatMap((x) => x.AttachedPolicies ?? [])) {
        await tolerate(step("DetachUserPolicy", secrets, () => iam.send(new DetachUserPolicyCommand({ UserName, PolicyArn: p.PolicyArn }))));
      }
      const groups = await collect("ListGroupsForUser", secrets, paginateListGroupsForUser(client, { UserName }));
      for (const g of groups.flatMap((x) => x.Groups ?? [])) {
        await tolerate(step("RemoveUserFromGroup", secrets, () => iam.send(new RemoveUserFromGroupCommand({ UserName, GroupName: g.GroupName }))));
      }
      await step("DeleteUser", secrets, () => iam.send(new DeleteUserCommand({ UserName })));
      return "removed";
    } catch (err) {
      if (!gone(err)) throw err;
      // Not found on the very first call, soon after issue: maybe not visible yet, not gone.
      if (first && ctx.issuedAt && clock.now().getTime() - ctx.issuedAt.getTime() < windowMs) {
        throw new ProviderError(`IAM user ${UserName} is not visible yet; retry later.`, true, NOT_YET_VISIBLE);
      }
      return "absent";
    }
  }

  return {
    id: "aws",
    configSchema: awsIamConfigSchema,
    secretFields: ["secret_access_key"],
    connection: { target: ["region", "endpoint", "sts_endpoint", "role_arn"], root: ["access_key_id", "secret_access_key", "external_id"], rootNeeds: "account" },
    capabilities: { renewableUpstream: false, revocationRequired: true },
    defaultKeyMap: [
      { id: "username", keyName: "AWS_IAM_USERNAME", masked: false },
      { id: "access_key_id", keyName: "AWS_ACCESS_KEY_ID", masked: false },
      { id: "secret_access_key", keyName: "AWS_SECRET_ACCESS_KEY", masked: true },
    ],
    clientsFor,

    async testConnection(config) {
      await step("GetCallerIdentity", [config.secret_access_key], () => clientsFor(config).sts.send(new GetCallerIdentityCommand({})));
    },

    plan(config) {
      const identity = renderTemplate(config.username_template, { random: randomString(RANDOM_LENGTH, LOWER_ALNUM, opts.random) });
      if (!USERNAME_RE.test(identity)) throw new ProviderError("username_template renders an invalid IAM user name.", false, "config");
      return { identity, secrets: {} };
    },

    async create(config, planned, ctx) {
      const UserName = planned.identity;
      if (!USERNAME_RE.test(UserName)) throw new ProviderError("Invalid IAM user name.", false, "invalid_identity");
      const { iam } = clientsFor(config);
      const secrets: (string | undefined)[] = [config.secret_access_key];
      let account: string | undefined;
      try {
        const made = await iam.send(
          new CreateUserCommand({
            UserName,
            Path: config.iam_path,
            ...(config.permission_boundary_arn ? { PermissionsBoundary: config.permission_boundary_arn } : {}),
            Tags: [
              { Key: LEASE_TAG, Value: ctx.leaseId },
              { Key: EXPIRES_TAG, Value: ctx.expiresAt.toISOString() },
            ],
          }),
        );
        account = accountOfArn(made.User?.Arn);
      } catch (err) {
        if (awsErrorCode(err) !== "EntityAlreadyExists") throw awsProviderError("CreateUser", err, secrets);
        // An earlier attempt for this lease may have created it (lost response, crash): remove
        // ours and let the caller retry; a user of someone else's is never touched.
        const found = await removeUser(iam, UserName, { leaseId: ctx.leaseId }, secrets);
        throw awsProviderError("CreateUser", err, secrets, found !== "foreign");
      }
      try {
        if (config.policy_document) {
          const doc = config.policy_document;
          await step("PutUserPolicy", secrets, () => iam.send(new PutUserPolicyCommand({ UserName, PolicyName: INLINE_POLICY_NAME, PolicyDocument: doc })));
        }
        for (const PolicyArn of config.policy_arns) {
          await step("AttachUserPolicy", secrets, () => iam.send(new AttachUserPolicyCommand({ UserName, PolicyArn })));
        }
        for (const GroupName of config.groups) {
          await step("AddUserToGroup", secrets, () => iam.send(new AddUserToGroupCommand({ UserName, GroupName })));
        }
        const out = await step("CreateAccessKey", secrets, () => iam.send(new CreateAccessKeyCommand({ UserName })));
        const key = out.AccessKey;
        if (!key?.AccessKeyId || !key.SecretAccessKey) throw new ProviderError("CreateAccessKey returned no key.", true, "ServiceFailure");
        return {
          outputs: { username: UserName, access_key_id: key.AccessKeyId, secret_access_key: key.SecretAccessKey },
          revocation: { identity: UserName, ...(account ? { account } : {}) },
        };
      } catch (err) {
        let failure = awsProviderError("create", err, secrets);
        // IAM is eventually consistent: a step may not see the user it just created yet.
        if (failure.code === "NoSuchEntity" && failure.message.includes(`user with name ${UserName} `)) {
          failure = new ProviderError(failure.message, true, failure.code);
        }
        try {
          await removeUser(iam, UserName, { leaseId: ctx.leaseId, issuedAt: clock.now() }, secrets);
        } catch (cleanupErr) {
          const why = cleanupErr instanceof Error ? cleanupErr.message : String(cleanupErr);
          throw new ProviderError(`${failure.message}; cleanup incomplete: ${why}`, failure.retryable, failure.code);
        }
        throw failure;
      }
    },

    async revoke(config, revocation, ctx = {}) {
      if (!USERNAME_RE.test(revocation.identity)) throw new ProviderError("Invalid IAM user name.", false, "invalid_identity");
      const clients = clientsFor(config);
      const secrets = [config.secret_access_key];
      const found = await removeUser(clients.iam, revocation.identity, ctx, secrets);
      // Not found (or not ours) counts as gone only in the account the user was made in: root
      // credentials changed to another account's would otherwise "revoke" every lease unseen.
      const account = revocation["account"];
      if (found !== "removed" && typeof account === "string") {
        const caller = await step("GetCallerIdentity", secrets, () => clients.sts.send(new GetCallerIdentityCommand({})));
        if (caller.Account !== account) {
          throw new ProviderError(
            `IAM user ${revocation.identity} was created in AWS account ${account}, but the root credentials now act in account ${caller.Account ?? "unknown"}: it cannot be found or removed with them.`,
            false,
            "wrong_account",
          );
        }
      }
    },

    classifyError: classifyAwsError,

    async close() {
      clients.destroyAll();
    },
  };
}
