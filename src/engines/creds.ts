import type { Principal } from "../auth/principal.js";
import type { createLeaseMinter } from "../leases/create.js";
import { LeaseProviderError } from "../leases/errors.js";
import { MIN_TTL_SECONDS } from "../leases/ttl.js";
import type { Actor, LeaseRecord } from "../leases/types.js";
import { ProviderError } from "../providers/provider.js";
import { formatDuration } from "./durations.js";
import { EngineErrors } from "./errors.js";
import { parseCredsBody } from "./input.js";
import { PLUGINS } from "./plugins.js";
import type { EngineRecord, RoleRecord } from "./repository.js";
import type { EngineSources } from "./sources.js";

export interface IssuedCreds {
  engine: EngineRecord;
  role: RoleRecord;
  lease: LeaseRecord;
  /** The credential: returned once, never stored in clear. */
  data: Record<string, unknown>;
}

const UNREACHABLE_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|ECONNABORTED|timeout|08\w{3}|28\w{3}|3D000|57P0\d|53300|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient)$/;

/** Did the provider fail to reach or log in to the target (rather than fail a statement)? */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof ProviderError)) return false;
  if (err.code) return UNREACHABLE_CODES.test(err.code);
  return /connect|timeout|terminated/i.test(err.message);
}

/** `data` for database engines adds where to connect, read from the credential's connection_url. */
function dataOf(engine: EngineRecord, outputs: Record<string, string>): Record<string, unknown> {
  if (engine.type !== "database" || !outputs["connection_url"]) return { ...outputs };
  const data: Record<string, unknown> = { ...outputs };
  try {
    const url = new URL(outputs["connection_url"]);
    data["host"] = url.hostname;
    data["port"] = url.port ? Number(url.port) : (PLUGINS[engine.plugin]?.defaultPort ?? null);
    data["database"] = decodeURIComponent(url.pathname.replace(/^\//, "")) || null;
  } catch {
    // a connection_url the URL parser does not take: username/password/connection_url only
  }
  return data;
}

/**
 * POST /v1/dynamic/engines/{engine}/creds/{role}: a lease minted through the one lease lifecycle
 * (intent recorded before the provider is called, rolled back on failure), with the engine's
 * current root credentials and the role's statements.
 */
export function createCredsService(deps: { sources: EngineSources; mint: ReturnType<typeof createLeaseMinter> }) {
  return {
    async issue(principal: Principal, actor: Actor, engineName: string, roleName: string, body: unknown): Promise<IssuedCreds> {
      const input = parseCredsBody(body);
      const engine = await deps.sources.engineNamed(engineName);
      const role = await deps.sources.roleOf(engine, roleName);
      const opened = await deps.sources.openRole(engine, role);
      const { maxTtl, defaultTtl } = opened.bounds;
      const ttl = input.ttl ?? defaultTtl;
      if (ttl > maxTtl) {
        throw EngineErrors.ttlExceedsMax(`The requested ttl (${formatDuration(ttl)}) exceeds the role's max_ttl (${formatDuration(maxTtl)}).`, {
          requested_ttl: formatDuration(ttl),
          max_ttl: formatDuration(maxTtl),
        });
      }
      if (ttl < MIN_TTL_SECONDS) throw EngineErrors.invalidTtl(`ttl must be at least ${MIN_TTL_SECONDS} seconds.`);
      try {
        const { lease, outputs } = await deps.mint(principal, actor, {
          provider: opened.provider,
          config: opened.config,
          roleName: role.name,
          ttl,
          row: {
            dynamicSecretId: null,
            environmentId: null,
            engineId: engine.id,
            engineRole: role.name,
            name: `${engine.name}/${role.name}`,
            description: "",
            metadata: input.metadata,
          },
        });
        return { engine, role, lease, data: dataOf(engine, outputs) };
      } catch (err) {
        // The provider's (scrubbed) reason stays in the log and the lease's last_error: it may quote the target's SQL.
        if (!(err instanceof LeaseProviderError)) throw err;
        if (isUnreachable(err.providerCause)) throw EngineErrors.engineUnreachable("The engine's root credentials could not reach the target system.");
        throw EngineErrors.credentialFailed("The target system refused to create the credential; nothing was left behind.");
      }
    },
  };
}

export type CredsService = ReturnType<typeof createCredsService>;
