import type { z } from "zod";

/**
 * The one interface every dynamic-credential provider implements (PostgreSQL roles, AWS IAM users,
 * MySQL/MariaDB users, Redis ACL users). A provider talks to one external system and knows nothing
 * of leases, HTTP or our database: the lease service records intent before calling it and stores
 * what it returns, so a crash at any point leaves enough to clean up.
 */
export interface Provider<Config = unknown> {
  /** Stable id stored on definitions and leases: "postgresql", "aws", "mysql", "redis". */
  readonly id: string;
  /** Validates a definition's config. */
  readonly configSchema: z.ZodType<Config>;
  /** Config fields that are secret: encrypted at rest and never returned by the API. */
  readonly secretFields: readonly string[];
  readonly capabilities: ProviderCapabilities;
  /** Default key_map: output id → key name (and whether clients should mask it). */
  readonly defaultKeyMap: readonly KeyMapEntry[];
  /** Which config fields say where credentials are made, and which hold the root credentials. */
  readonly connection: ConnectionFields;

  /** Checks the configuration reaches the target and can act (root login works, etc.). */
  testConnection(config: Config): Promise<void>;

  /**
   * Decides the upstream identity (e.g. role or user name) before anything is created, so the
   * lease row can record it first; deterministic given the random source, no side effects.
   */
  plan(config: Config, ctx: PlanContext): PlannedCredential;

  /**
   * Creates the credential named by `planned`. On failure it undoes whatever it created before
   * throwing (best effort; the caller also revokes by the planned identity).
   */
  create(config: Config, planned: PlannedCredential, ctx: CreateContext): Promise<CreatedCredential>;

  /**
   * Removes the credential. Idempotent: already gone counts as success. Pass `ctx` from the lease
   * row whenever it is known (see RevokeContext); providers that need it say so.
   */
  revoke(config: Config, revocation: RevocationData, ctx?: RevokeContext): Promise<void>;

  /** Extends an upstream expiry, when the provider supports it (capabilities.renewableUpstream). */
  renew?(config: Config, revocation: RevocationData, expiresAt: Date): Promise<void>;

  /**
   * Changes the password of the root (admin) account `config` connects as to `newPassword`
   * (rotate-root on /v1/dynamic/ engines). Optional: providers without it cannot rotate.
   */
  rotateRoot?(config: Config, newPassword: string): Promise<void>;

  /** Classifies a failure: retryable (network, throttling, lock timeout) or permanent. */
  classifyError(err: unknown): "retryable" | "permanent";

  /** Releases pools and clients (server shutdown). */
  close(): Promise<void>;
}

export interface ProviderCapabilities {
  /** The upstream credential itself carries an expiry that renew can move (Postgres VALID UNTIL). */
  renewableUpstream: boolean;
  /** Revocation must be performed upstream (false for credentials that expire by themselves). */
  revocationRequired: boolean;
}

/**
 * A lease is revoked and renewed with the current root credentials of its definition or engine
 * (a root password rotated since the lease was made must not strand it), but only while `target`
 * is unchanged: credentials for another server or account would "revoke" nothing and call it done.
 */
export interface ConnectionFields {
  /** Where credentials are made, and by whom: a connection_url and root user, an AWS region, endpoints and role. */
  target: readonly string[];
  /** The root secrets: replaced together by the current ones when the target is the same. */
  root: readonly string[];
  /**
   * A field the lease's revocation data must hold for the root to be replaced (AWS: the account
   * the user was made in, which revoke checks the new credentials against); without it, the
   * lease's own root is used.
   */
  rootNeeds?: string;
}

/**
 * PostgreSQL, MySQL and Redis: the server and database in connection_url, and the root user (on
 * PostgreSQL 16+ only the role that created a role may drop it without superuser), whose password
 * may change.
 */
export const DATABASE_CONNECTION: ConnectionFields = { target: ["connection_url", "username"], root: ["password"] };

export interface KeyMapEntry {
  /** Output id, e.g. "username", "password", "access_key_id". */
  id: string;
  keyName: string;
  masked: boolean;
}

export interface PlanContext {
  /** Lease id, for tagging upstream objects with their lease. */
  leaseId: string;
  /** Short name of the definition or role, used in generated names (e.g. v_<role>_<random>). */
  roleName: string;
}

export interface CreateContext extends PlanContext {
  expiresAt: Date;
  ttlSeconds: number;
}

export interface RevokeContext {
  /**
   * The lease id. Providers that tag upstream objects with it (AWS IAM) refuse to delete an
   * object tagged for another lease, so revoking by a planned identity can never hit a stranger.
   */
  leaseId?: string;
  /**
   * When the lease was created. Eventually consistent upstreams (AWS IAM) use it to tell "gone"
   * from "not visible yet": a not-found shortly after issue is a retryable error, not a success.
   */
  issuedAt?: Date;
}

/** What is recorded (encrypted) on the lease before create runs. */
export interface PlannedCredential {
  /** The upstream identity (role name, IAM user name): enough to find and remove it. */
  identity: string;
  /** Secret material chosen up front (e.g. a generated password), if the provider needs it. */
  secrets: Record<string, string>;
}

export interface CreatedCredential {
  /** Output values by output id (see defaultKeyMap), returned to the client once. */
  outputs: Record<string, string>;
  /** Everything revocation needs, stored encrypted with the lease. */
  revocation: RevocationData;
}

/**
 * Self-contained: revocation must work after the definition is changed or deleted. When create
 * never returned (crash, failure), revoke with `{ identity: planned.identity }`.
 */
export interface RevocationData {
  identity: string;
  [k: string]: unknown;
}

/**
 * A ProviderError code for "the credential cannot be seen yet" from an eventually consistent
 * upstream (AWS IAM shortly after issue): retryable, and bounded by the provider itself (it stops
 * saying so once its consistency window has passed), so it never uses up a lease's revocation
 * attempts: a rollback of a credential that was never created must not end REVOKE_FAILED.
 */
export const NOT_YET_VISIBLE = "NotYetVisible";

/** Raised by providers with a message already scrubbed of credentials. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code?: string,
    /**
     * The call failed before it could change anything upstream (no connection to the target was
     * made): a failed create needs no rollback.
     */
    readonly nothingChanged = false,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}
