import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Principal } from "../auth/principal.js";
import type { Clock } from "../clock.js";
import type { DefinitionService, OpenedDefinition } from "../dynamic/service.js";
import { NotFoundError } from "../errors.js";
import type { ServerKeys } from "../keys/server-keys.js";
import { ProviderError, type CreatedCredential, type Provider } from "../providers/provider.js";
import { LeaseMessages, LeaseProviderError } from "./errors.js";
import type { FaultInjector } from "./faults.js";
import type { LeaseRepository, NewLease } from "./repository.js";
import type { Revoker } from "./revoker.js";
import { scrubbedMessage, sealState, secretsIn, type LeaseState } from "./state.js";
import { leaseTtl } from "./ttl.js";
import { finalEventFor, finalStatusFor, type Actor, type LeaseRecord } from "./types.js";

export interface CreateLeaseInput {
  /** The dynamic secret (definition) id. */
  secretId: string;
  /** When given, the definition must be in this environment (the one the caller was authorised for). */
  environmentId?: string | undefined;
  /** Seconds; 0, null or missing mean the definition's default_ttl (Phase). */
  ttl?: number | null | undefined;
  /** The definition `secretId` names, already opened in this request (it is then not read again). */
  definition?: OpenedDefinition | undefined;
}

export interface CreatedLease {
  lease: LeaseRecord;
  /** The credential in key_map order, as Phase returns it: only here, never stored in clear or listed. */
  credentials: { key: string; value: string }[];
}

/** What a lease is minted from: a provider with its full config, the TTL and the row's references. */
export interface LeaseSource {
  provider: Provider;
  config: unknown;
  /** Short name used in generated upstream names (v_<role>_<random>). */
  roleName: string;
  /** Seconds, already checked against the source's bounds. */
  ttl: number;
  row: Pick<NewLease, "dynamicSecretId" | "environmentId" | "engineId" | "engineRole" | "name" | "description" | "metadata">;
}

export interface MintedLease {
  lease: LeaseRecord;
  /** Output values by output id: only here, never stored in clear or listed. */
  outputs: Record<string, string>;
}

export interface MinterDeps {
  repo: Pick<LeaseRepository, "insertCreating" | "activate" | "queueRollback" | "finalize" | "isDefinitionLive">;
  revoker: Revoker;
  keys: ServerKeys;
  clock: Clock;
  instanceId: string;
  createTimeoutMs: number;
  claimTtlMs: number;
  faults: FaultInjector;
  log?: Logger | undefined;
}

export interface CreateDeps extends MinterDeps {
  definitions: Pick<DefinitionService, "open">;
}

const after = (d: Date, ms: number) => new Date(d.getTime() + ms);

/** A definition that does not exist, is in another environment, or was deleted (even mid-create). */
const definitionNotFound = () => new NotFoundError("Dynamic secret not found");

/** Provider create attempts for one lease, and the jitter ceiling before each retry. */
export const CREATE_ATTEMPTS = 4;
const RETRY_JITTER_MS = 100;

const isRetryable = (provider: Provider, err: unknown) =>
  err instanceof ProviderError ? err.retryable : provider.classifyError(err) === "retryable";

/**
 * Crash-safe lease creation. The row (with the planned upstream identity and everything needed
 * to remove it, sealed) is committed as CREATING and claimed by this instance BEFORE the provider
 * is called; it becomes ACTIVE only by a conditional UPDATE that still finds it ours. Whatever
 * stops this function half-way (provider error, crash, a hang past the create timeout), the row
 * is revoked by its planned identity, by us or by the reaper once the claim runs out, and ends
 * CREATE_FAILED. The credential is returned only after ACTIVE is committed. A lease of a
 * definition deleted meanwhile is never inserted or never activated (see INSERT_CREATING_SQL,
 * ACTIVATE_SQL): the caller gets the definition's not-found error, and anything made is rolled back.
 */
export function createLeaseMinter(deps: MinterDeps) {
  const { repo, clock, instanceId, faults } = deps;

  /**
   * Queue the lease for revocation (claimed by us) and revoke now through the one revocation path;
   * `untouched` (no create attempt reached the target) ends it at once, with no provider call.
   */
  async function rollback(key: Uint8Array, def: Pick<LeaseSource, "provider">, leaseId: string, state: LeaseState, err: unknown, actor: Actor, untouched = false) {
    const error = scrubbedMessage(err, secretsIn(state, def.provider));
    deps.log?.warn({ leaseId, provider: def.provider.id, identity: state.planned.identity, error }, "lease creation failed; rolling back");
    try {
      const now = clock.now();
      const claimed = await repo.queueRollback(leaseId, sealState(key, leaseId, state), { by: instanceId, until: after(now, deps.claimTtlMs) }, error, now, {
        type: "create_failed",
        actor,
        metadata: { error },
      });
      if (claimed && untouched) {
        const status = finalStatusFor(claimed.revokeReason);
        const metadata = { reason: claimed.revokeReason, attempts: 0, identity: claimed.upstreamIdentity, upstream: "untouched" };
        await repo.finalize(leaseId, instanceId, status, now, { type: finalEventFor(status), actor, metadata });
      } else if (claimed) {
        // A failed attempt is recorded on the row and retried by the reaper.
        await deps.revoker.revokeClaimed(claimed, actor);
      }
    } catch (e) {
      // Our database failed: the row stays CREATING and the reaper rolls it back after the timeout.
      deps.log?.error({ err: e, leaseId }, "could not record the rollback; the reaper will clean up");
    }
  }

  /**
   * provider.create, retried on retryable errors (IAM not yet consistent, PostgreSQL's "tuple
   * concurrently updated" when concurrent GRANTs touch one object) with the same planned identity:
   * a failed create has undone its own work. Retries stop well before the row's claim runs out.
   */
  async function createWithRetries(
    def: Pick<LeaseSource, "provider" | "config">,
    planned: LeaseState["planned"],
    ctx: Parameters<Provider["create"]>[2],
    reached: { target: boolean },
  ) {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await def.provider.create(def.config, planned, ctx);
      } catch (err) {
        if (!(err instanceof ProviderError && err.nothingChanged)) reached.target = true;
        const delay = Math.floor(Math.random() * RETRY_JITTER_MS * attempt);
        const late = performance.now() - started + delay > deps.createTimeoutMs / 2;
        if (attempt >= CREATE_ATTEMPTS || late || !isRetryable(def.provider, err)) throw err;
        deps.log?.debug({ leaseId: ctx.leaseId, attempt }, "provider create failed with a retryable error; retrying");
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  return async function mint(principal: Principal, actor: Actor, def: LeaseSource): Promise<MintedLease> {
    const ttl = def.ttl;
    const key = await deps.keys.get("leases");
    const now = clock.now();
    const id = randomUUID();
    const expiresAt = after(now, ttl * 1000);
    const roleName = def.roleName;
    const planned = def.provider.plan(def.config, { leaseId: id, roleName });
    const state: LeaseState = { v: 1, config: def.config, planned };
    const row: NewLease = {
      id,
      ...def.row,
      provider: def.provider.id,
      ownerUserId: principal.kind === "user" ? principal.id : null,
      ownerServiceAccountId: principal.kind === "service_account" ? principal.id : null,
      ttlSeconds: ttl,
      createdAt: now,
      expiresAt,
      upstreamIdentity: planned.identity,
      stateCipher: sealState(key, id, state),
      claimedBy: instanceId,
      claimedUntil: after(now, deps.createTimeoutMs),
    };
    if (!(await repo.insertCreating(row))) throw definitionNotFound();
    faults("after-row-insert");

    let created: CreatedCredential;
    const reached = { target: false };
    try {
      created = await createWithRetries(def, planned, { leaseId: id, roleName, expiresAt, ttlSeconds: ttl }, reached);
    } catch (err) {
      await rollback(key, def, id, state, err, actor, !reached.target);
      throw new LeaseProviderError(LeaseMessages.createFailed, err);
    }
    faults("after-provider-create");

    const full: LeaseState = { ...state, revocation: created.revocation };
    const sealed = sealState(key, id, full);
    faults("before-activate");
    const activated = await repo.activate(id, instanceId, sealed, clock.now(), {
      type: "created",
      actor,
      metadata: { ttl, expiresAt: expiresAt.toISOString(), identity: planned.identity },
    });
    if (!activated) {
      // Too slow: the reaper took the row and rolled back the planned identity, maybe before the
      // provider finished. Revoke again now that creation is over. Or the definition was deleted
      // meanwhile: what the provider made is revoked the same way (a failed check must not stop that).
      const dsId = def.row.dynamicSecretId;
      const gone = dsId !== null && (await repo.isDefinitionLive(dsId).then((live) => !live, () => false));
      const why = gone ? "The dynamic secret was deleted during creation" : "Creation did not complete in time";
      await rollback(key, def, id, full, new Error(`${why}; the lease was rolled back.`), actor);
      throw gone ? definitionNotFound() : new LeaseProviderError(LeaseMessages.createFailed);
    }
    const lease: LeaseRecord = {
      ...row,
      status: "ACTIVE",
      stateCipher: sealed,
      renewedAt: null,
      revokedAt: null,
      revokeReason: null,
      attempts: 0,
      nextAttemptAt: null,
      claimedBy: null,
      claimedUntil: null,
      lastError: null,
    };
    return { lease, outputs: created.outputs };
  };
}

/**
 * Phase's lease creation from a definition (its own provider config, or an engine role's when the
 * definition is backed by one: then the role's max TTL bounds the lease too).
 */
export function createLeaseCreator(deps: CreateDeps) {
  const mint = createLeaseMinter(deps);
  const creator = async function createLease(principal: Principal, actor: Actor, input: CreateLeaseInput): Promise<CreatedLease> {
    const def: OpenedDefinition = input.definition ?? (await deps.definitions.open(input.secretId));
    if (def.record.id !== input.secretId) throw new Error("createLease: the opened definition is not the one named by secretId");
    if (input.environmentId !== undefined && def.record.environmentId !== input.environmentId) {
      throw definitionNotFound();
    }
    const ttl = leaseTtl(input.ttl, { defaultTtl: def.record.defaultTtl, maxTtl: Math.min(def.record.maxTtl, def.engine?.maxTtl ?? Infinity) });
    const { record } = def;
    const { lease, outputs } = await mint(principal, actor, {
      provider: def.provider,
      config: def.config,
      roleName: def.engine?.role ?? record.name,
      ttl,
      row: {
        dynamicSecretId: record.id,
        environmentId: record.environmentId,
        engineId: def.engine?.id ?? null,
        engineRole: def.engine?.role ?? null,
        name: record.name,
        description: record.description,
        metadata: null,
      },
    });
    return { lease, credentials: def.keyMap.map((e) => ({ key: e.key_name, value: outputs[e.id] ?? "" })) };
  };
  return Object.assign(creator, { mint });
}
