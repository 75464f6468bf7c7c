import { createHash } from "node:crypto";
import { IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { Clock } from "../clock.js";
import type { AwsIamConfig } from "./aws-iam-config.js";

export interface AwsClients {
  iam: IAMClient;
  /** STS signed with the credentials IAM uses (assumed ones with role_arn): GetCallerIdentity. */
  sts: STSClient;
  destroy(): void;
}

export interface AwsClientOptions {
  clock: Clock;
  /** SDK attempts per call; kept small, the lease layer retries with backoff. */
  maxAttempts: number;
  requestTimeoutMs: number;
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };
const REFRESH_BEFORE_MS = 5 * 60_000;
const SESSION_NAME = "leasehold-dynamic-secrets";

/**
 * One set of SDK clients per distinct configuration (keyed by a hash of region, endpoints and
 * credentials), reused across calls; `destroyAll` closes their sockets.
 */
export function createAwsClientCache(opts: AwsClientOptions) {
  const cache = new Map<string, AwsClients>();

  function build(config: AwsIamConfig): AwsClients {
    const common = {
      region: config.region,
      maxAttempts: opts.maxAttempts,
      requestHandler: { requestTimeout: opts.requestTimeoutMs, connectionTimeout: Math.min(opts.requestTimeoutMs, 5000) },
    };
    const stsEndpoint = config.sts_endpoint ?? config.endpoint;
    const base: Credentials | undefined = config.access_key_id
      ? { accessKeyId: config.access_key_id, secretAccessKey: config.secret_access_key ?? "" }
      : undefined; // role_arn alone: the server's own AWS identity (environment, instance profile)
    const baseSts = config.role_arn
      ? new STSClient({ ...common, ...(stsEndpoint ? { endpoint: stsEndpoint } : {}), ...(base ? { credentials: base } : {}) })
      : undefined;
    const credentials = baseSts ? assumeRoleCredentials(baseSts, config, opts.clock) : base;
    const iam = new IAMClient({ ...common, ...(config.endpoint ? { endpoint: config.endpoint } : {}), credentials });
    const sts = new STSClient({ ...common, ...(stsEndpoint ? { endpoint: stsEndpoint } : {}), credentials });
    return {
      iam,
      sts,
      destroy() {
        iam.destroy();
        sts.destroy();
        baseSts?.destroy();
      },
    };
  }

  return {
    get(config: AwsIamConfig): AwsClients {
      const key = createHash("sha256")
        .update(
          JSON.stringify([
            config.region,
            config.endpoint,
            config.sts_endpoint,
            config.access_key_id,
            config.secret_access_key,
            config.role_arn,
            config.external_id,
          ]),
        )
        .digest("hex");
      let clients = cache.get(key);
      if (!clients) cache.set(key, (clients = build(config)));
      return clients;
    },
    size: () => cache.size,
    destroyAll(): void {
      for (const c of cache.values()) c.destroy();
      cache.clear();
    },
  };
}

/** Temporary credentials from sts:AssumeRole, cached until 5 minutes before they expire. */
function assumeRoleCredentials(sts: STSClient, config: AwsIamConfig, clock: Clock): () => Promise<Credentials> {
  let cached: Credentials | undefined;
  let pending: Promise<Credentials> | undefined;
  return async () => {
    if (cached?.expiration && cached.expiration.getTime() - clock.now().getTime() > REFRESH_BEFORE_MS) return cached;
    pending ??= sts
      .send(
        new AssumeRoleCommand({
          RoleArn: config.role_arn,
          RoleSessionName: SESSION_NAME,
          DurationSeconds: 3600,
          ...(config.external_id ? { ExternalId: config.external_id } : {}),
        }),
      )
      .then((out) => {
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("AssumeRole returned no credentials");
        cached = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
          ...(c.Expiration ? { expiration: c.Expiration } : {}),
        };
        return cached;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
