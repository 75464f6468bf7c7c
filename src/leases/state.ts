import { openString, seal, type Bytes } from "../crypto/aead.js";
import type { PlannedCredential, Provider, RevocationData } from "../providers/provider.js";
import { scrub } from "../providers/scrub.js";

/**
 * Everything a lease needs to be revoked, whatever happens to its definition: the provider config
 * as it was at creation (root credentials included), the identity and secrets planned before
 * anything was created upstream, and what create returned for revocation. Sealed with the
 * server's "leases" key; the associated data binds the blob to its lease row.
 */
export interface LeaseState {
  v: 1;
  config: unknown;
  planned: PlannedCredential;
  revocation?: RevocationData;
}

export const stateAd = (leaseId: string) => `leasehold/v1/lease/${leaseId}/state`;

export function sealState(key: Uint8Array, leaseId: string, state: LeaseState): Bytes {
  return seal(key, JSON.stringify(state), stateAd(leaseId));
}

/** Null for an erased state (a final lease). */
export function openState(key: Uint8Array, leaseId: string, blob: Uint8Array): LeaseState | null {
  if (blob.length === 0) return null;
  return JSON.parse(openString(key, blob, stateAd(leaseId))) as LeaseState;
}

/** What revoke gets: create's revocation data, or only the planned identity when create never returned. */
export function revocationOf(state: LeaseState): RevocationData {
  return state.revocation ?? { identity: state.planned.identity };
}

const SECRETISH_KEY = /secret|password|passwd|token|private|credential/i;

/**
 * Every secret value the state holds: planned secrets, the config's secret fields (all string
 * config values when the provider is unknown) and secret-looking revocation fields.
 */
export function secretsIn(state: LeaseState | null, provider: Pick<Provider, "secretFields"> | undefined): string[] {
  if (!state) return [];
  const out: string[] = Object.values(state.planned.secrets ?? {});
  const config = (state.config ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(config)) {
    if (provider && !provider.secretFields.includes(k)) continue;
    collectStrings(v, out, provider ? 1 : 8);
  }
  for (const [k, v] of Object.entries(state.revocation ?? {})) {
    if (SECRETISH_KEY.test(k)) collectStrings(v, out, 1);
  }
  return out;
}

function collectStrings(v: unknown, out: string[], minLength: number): void {
  if (typeof v === "string") {
    if (v.length >= minLength) out.push(v);
  } else if (Array.isArray(v)) {
    for (const x of v) collectStrings(x, out, minLength);
  } else if (v && typeof v === "object") {
    for (const x of Object.values(v)) collectStrings(x, out, minLength);
  }
}

const MAX_ERROR_LENGTH = 1_000;

/** An error message safe to store, log and return: every secret replaced, length capped. */
export function scrubbedMessage(err: unknown, secrets: string[]): string {
  const raw = err instanceof Error ? err.message : String(err);
  const clean = scrub(raw, secrets);
  return clean.length > MAX_ERROR_LENGTH ? `${clean.slice(0, MAX_ERROR_LENGTH - 1)}…` : clean;
}
