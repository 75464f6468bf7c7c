import { createAwsIamProvider, type AwsIamProviderOptions } from "./aws-iam.js";
import { createMysqlProvider, type MysqlProviderOptions } from "./mysql.js";
import { createPostgresProvider, type PostgresProviderOptions } from "./postgresql.js";
import type { Provider } from "./provider.js";
import { createRedisProvider, type RedisProviderOptions } from "./redis.js";

export interface ProviderRegistry {
  /** Provider ids, e.g. for validating a definition's `provider` field. */
  ids(): string[];
  has(id: string): boolean;
  /** The provider with this id; throws for an unknown id (validate with has() first). */
  get(id: string): Provider;
  /** Closes every provider's pools and clients (server shutdown). */
  closeAll(): Promise<void>;
}

export interface ProviderRegistryOptions {
  postgresql?: PostgresProviderOptions;
  aws?: AwsIamProviderOptions;
  mysql?: MysqlProviderOptions;
  redis?: RedisProviderOptions;
  /** Replaces or adds providers (tests, future plugins); keyed by their own id. */
  extra?: Provider[];
}

export function createProviderRegistry(opts: ProviderRegistryOptions = {}): ProviderRegistry {
  const all: Provider[] = [
    createPostgresProvider(opts.postgresql),
    createAwsIamProvider(opts.aws),
    createMysqlProvider(opts.mysql),
    createRedisProvider(opts.redis),
    ...(opts.extra ?? []),
  ];
  const byId = new Map<string, Provider>(all.map((p) => [p.id, p] as const));
  return {
    ids: () => [...byId.keys()],
    has: (id) => byId.has(id),
    get(id) {
      const p = byId.get(id);
      if (!p) throw new Error(`Unknown dynamic-secret provider: ${id}`);
      return p;
    },
    async closeAll() {
      await Promise.all([...byId.values()].map((p) => p.close()));
    },
  };
}
