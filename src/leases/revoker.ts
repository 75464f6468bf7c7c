import type { Logger } from "pino";
import { withTimeout } from "../async.js";
import type { Clock } from "../clock.js";
import type { LeaseStatus } from "../generated/prisma/enums.js";
import type { ServerKeys } from "../keys/server-keys.js";
import { NOT_YET_VISIBLE, ProviderError, type Provider, type RevocationData } from "../providers/provider.js";
import { backoffDelayMs, slowRetryDelayMs, type BackoffPolicy } from "./backoff.js";
import type { FaultInjector } from "./faults.js";
import type { LeaseRepository } from "./repository.js";
import { openState, revocationOf, scrubbedMessage, secretsIn, type LeaseState } from "./state.js";
import { finalEventFor, finalStatusFor, SYSTEM_ACTOR, type Actor, type LeaseRecord } from "./types.js";

/** Finds a provider by the id stored on definitions and leases. */
export interface ProviderLookup {
  get(id: string): Provider | undefined;
}

/**
 * The config to act on a lease with, from its snapshot: the current root credentials of its engine
 * or definition (root rotated, path secret updated) while that still points at the same target
 * (src/providers/connection.ts); else the snapshot. Never throws (falls back to the snapshot).
 */
export type CurrentConfig = (lease: LeaseRecord, snapshot: unknown, revocation: RevocationData) => Promise<unknown>;

export type RevocationOutcome =
  | { kind: "revoked"; status: LeaseStatus }
  /** The attempt failed; the lease waits for its next attempt (REVOKING) or the slow retry (REVOKE_FAILED). */
  | { kind: "failed"; status: "REVOKING" | "REVOKE_FAILED"; error: string; retryable: boolean }
  /** Someone else took the row meanwhile (force revoke, a rollback): nothing was recorded. */
  | { kind: "lost" };

/** Told about revocation outcomes (metrics); must not throw. */
export interface RevocationObserver {
  /** The credential is gone; `at` is the revocation time recorded on the row. */
  revoked(lease: LeaseRecord, at: Date): void;
  /** A provider attempt failed (whatever happens to the lease next). */
  failed(lease: LeaseRecord): void;
}

export interface RevokerDeps {
  repo: Pick<LeaseRepository, "finalize" | "recordFailure">;
  providers: ProviderLookup;
  keys: ServerKeys;
  clock: Clock;
  policy: BackoffPolicy;
  instanceId: string;
  providerTimeoutMs: number;
  faults: FaultInjector;
  log?: Logger | undefined;
  observer?: RevocationObserver | undefined;
  currentConfig?: CurrentConfig | undefined;
}

/**
 * Has a claimed lease less than one provider call left on its claim (queued behind others)? Then
 * it must not start: past its claim another instance may take the row and revoke it too.
 */
export const claimRunningOut = (lease: Pick<LeaseRecord, "claimedUntil">, now: Date, providerTimeoutMs: number) =>
  !lease.claimedUntil || lease.claimedUntil.getTime() - now.getTime() < providerTimeoutMs;

/** How often a credential an eventually consistent upstream cannot show yet is looked for again. */
const NOT_YET_VISIBLE_RETRY_MS = 15_000;

class RevokeTimeoutError extends ProviderError {
  constructor(ms: number) {
    super(`The provider did not answer within ${ms} ms.`, true, "timeout");
  }
}

/**
 * THE revocation path: expiry, manual revoke, definition deletion, retries and the rollback of a
 * half-created credential all come through `revokeClaimed`. The caller must hold the row's claim
 * (claimed_by = this instance); every outcome is recorded with a conditional UPDATE on that claim.
 * Revocation data comes from the lease's own sealed state; only root credentials may be newer.
 */
export function createRevoker(deps: RevokerDeps) {
  const { repo, clock, policy, instanceId, faults } = deps;

  async function fail(lease: LeaseRecord, state: LeaseState | null, provider: Provider | undefined, err: unknown, actor: Actor) {
    deps.observer?.failed(lease);
    const error = scrubbedMessage(err, secretsIn(state, provider));
    const retryable = err instanceof ProviderError ? err.retryable : provider ? provider.classifyError(err) === "retryable" : true;
    // "Not visible yet" is no failed attempt: the provider stops saying it once its window has
    // passed. It is asked again at a steady pace meanwhile, and the attempts are left as they were.
    const notYetVisible = err instanceof ProviderError && err.code === NOT_YET_VISIBLE;
    const attempts = notYetVisible ? lease.attempts : lease.attempts + 1;
    const giveUp = !retryable || attempts >= policy.maxAttempts || lease.status === "REVOKE_FAILED";
    const status = giveUp ? "REVOKE_FAILED" : "REVOKING";
    const now = clock.now();
    const delay = giveUp ? slowRetryDelayMs(policy) : notYetVisible ? NOT_YET_VISIBLE_RETRY_MS : backoffDelayMs(attempts, policy);
    const type = giveUp && lease.status !== "REVOKE_FAILED" ? "revoke_failed" : "revoke_attempt_failed";
    const recorded = await repo.recordFailure(
      lease.id,
      instanceId,
      { status, attempts, nextAttemptAt: new Date(now.getTime() + delay), lastError: error },
      now,
      { type, actor, metadata: { reason: lease.revokeReason, attempts, error, retryable } },
    );
    if (!recorded) return { kind: "lost" } as const;
    const fields = { leaseId: lease.id, provider: lease.provider, identity: lease.upstreamIdentity, attempts, error };
    if (type === "revoke_failed") deps.log?.error(fields, "lease revocation failed; it is now REVOKE_FAILED and will be retried slowly");
    else deps.log?.warn(fields, "lease revocation attempt failed; will retry");
    return { kind: "failed", status, error, retryable } as const;
  }

  async function revokeClaimed(lease: LeaseRecord, actor: Actor = SYSTEM_ACTOR): Promise<RevocationOutcome> {
    faults("after-claim");
    let state: LeaseState | null = null;
    const provider = deps.providers.get(lease.provider);
    try {
      state = openState(await deps.keys.get("leases"), lease.id, lease.stateCipher);
      if (!state) throw new ProviderError("The lease has no revocation state left.", false, "no_state");
      if (!provider) throw new ProviderError(`Provider '${lease.provider}' is not available on this server.`, true, "no_provider");
      if (deps.currentConfig) state = { ...state, config: await deps.currentConfig(lease, state.config, revocationOf(state)) };
      // Credentials that expire by themselves need no upstream call (capabilities.revocationRequired).
      if (provider.capabilities.revocationRequired) {
        const revoke = provider.revoke(state.config, revocationOf(state), { leaseId: lease.id, issuedAt: lease.createdAt });
        await withTimeout(revoke, deps.providerTimeoutMs, () => new RevokeTimeoutError(deps.providerTimeoutMs));
      }
    } catch (err) {
      return fail(lease, state, provider, err, actor);
    }
    faults("after-provider-revoke");
    const status = finalStatusFor(lease.revokeReason);
    faults("before-finalize");
    const revokedAt = clock.now();
    const ok = await repo.finalize(lease.id, instanceId, status, revokedAt, {
      type: finalEventFor(status),
      actor,
      metadata: { reason: lease.revokeReason, attempts: lease.attempts + 1, identity: lease.upstreamIdentity },
    });
    if (!ok) return { kind: "lost" };
    deps.observer?.revoked(lease, revokedAt);
    deps.log?.debug({ leaseId: lease.id, status, reason: lease.revokeReason }, "lease revoked");
    return { kind: "revoked", status };
  }

  return { revokeClaimed };
}

export type Revoker = ReturnType<typeof createRevoker>;
