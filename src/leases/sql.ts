import type { Prisma } from "../db/database.js";
import { Prisma as P } from "../generated/prisma/client.js";
import type { LeaseEventInput, LeaseRecord } from "./types.js";

/*
 * The SQL building blocks of the lease repository (repository.ts) and the engine lease queries
 * (engine-queries.ts): the lease columns, the transition helper, and the create path's fixed
 * statements.
 */

/** Columns of a lease as LeaseRecord, for RETURNING and SELECT. */
export const COLUMNS = P.raw(`leases.id, leases.dynamic_secret_id AS "dynamicSecretId", leases.environment_id AS "environmentId",
  leases.engine_id AS "engineId", leases.engine_role AS "engineRole", leases.metadata, leases.provider, leases.name, leases.description, leases.owner_user_id AS "ownerUserId",
  leases.owner_service_account_id AS "ownerServiceAccountId", leases.status::text AS status,
  leases.ttl_seconds AS "ttlSeconds", leases.created_at AS "createdAt", leases.renewed_at AS "renewedAt",
  leases.expires_at AS "expiresAt", leases.revoked_at AS "revokedAt", leases.revoke_reason AS "revokeReason",
  leases.upstream_identity AS "upstreamIdentity", leases.state_cipher AS "stateCipher", leases.attempts,
  leases.next_attempt_at AS "nextAttemptAt", leases.claimed_by AS "claimedBy",
  leases.claimed_until AS "claimedUntil", leases.last_error AS "lastError"`);

/** A final lease's state_cipher (openState reads it as none): root credentials are not kept for rows nothing will act on again. */
export const ERASED_STATE = new Uint8Array(0);

/**
 * Runs one UPDATE (which must end without RETURNING) and writes the lease event for every row it
 * changed, in one statement: the transition and its audit row commit together or not at all.
 */
export async function transition(db: Prisma, update: P.Sql, event: LeaseEventInput, now: Date): Promise<LeaseRecord[]> {
  const p = event.actor.principal;
  return db.$queryRaw<LeaseRecord[]>`
    WITH changed AS (${update} RETURNING ${COLUMNS}),
    logged AS (
      INSERT INTO lease_events (lease_id, event_type, user_id, service_account_id, ip_address, user_agent, metadata, created_at)
      SELECT id, ${event.type}, ${p?.kind === "user" ? p.id : null}::uuid, ${p?.kind === "service_account" ? p.id : null}::uuid,
             ${event.actor.ipAddress ?? null}, ${event.actor.userAgent ?? null}, ${JSON.stringify(event.metadata ?? {})}::jsonb, ${now}
        FROM changed
    )
    SELECT * FROM changed`;
}

/**
 * A lease row's definition (if it has one) is live: the create path's guard against a concurrent
 * definition delete (see INSERT_CREATING_SQL and ACTIVATE_SQL).
 */
const DEFINITION_LIVE = (id: string) =>
  `(${id} IS NULL OR EXISTS (SELECT 1 FROM dynamic_secrets d WHERE d.id = ${id} AND d.deleted_at IS NULL))`;

/**
 * The activate transition as fixed SQL text: prepared once per connection (lease creation hot path).
 * It also requires the definition to be live. A definition delete is two statements (soft delete,
 * then requestRevocationOfDefinition marks its ACTIVE/CREATING leases): if the second ran before
 * our CREATING row was committed it missed the row, but then the soft delete committed before this
 * statement starts (READ COMMITTED), so it fails here and the creator rolls back. If it saw the
 * row, the row is no longer CREATING. Either way no lease of a deleted definition becomes ACTIVE.
 * An app delete removes the definition outright (the lease's dynamic_secret_id becomes NULL): the
 * environment must still exist too. That check sees the statement's snapshot, so an activation
 * that waited on the delete's row lock can still pass it; the app delete's second revocation pass
 * (src/apps/management.ts) catches that lease.
 */
export const ACTIVATE_SQL = `
  WITH changed AS (
    UPDATE leases SET status = 'ACTIVE', state_cipher = $3, claimed_by = NULL, claimed_until = NULL,
           next_attempt_at = NULL, updated_at = $4
     WHERE id = $1::uuid AND status = 'CREATING' AND claimed_by = $2 AND ${DEFINITION_LIVE("leases.dynamic_secret_id")}
       AND (leases.environment_id IS NULL OR EXISTS (SELECT 1 FROM environments e WHERE e.id = leases.environment_id))
    RETURNING leases.id
  )
  INSERT INTO lease_events (lease_id, event_type, user_id, service_account_id, ip_address, user_agent, metadata, created_at)
  SELECT id, $5, $6::uuid, $7::uuid, $8, $9, $10::jsonb, $4 FROM changed
  RETURNING lease_id`;

/**
 * Inserts the CREATING row only while its definition is live (no row returned otherwise), so a
 * create that opened a definition just before it was deleted stops before calling the provider.
 * Not a guarantee by itself (this statement may not see a delete that commits during it):
 * ACTIVATE_SQL checks again.
 */
export const INSERT_CREATING_SQL = `
  INSERT INTO leases (id, dynamic_secret_id, environment_id, provider, name, description, owner_user_id,
         owner_service_account_id, status, ttl_seconds, created_at, expires_at, upstream_identity, state_cipher,
         claimed_by, claimed_until, next_attempt_at, updated_at, engine_id, engine_role, metadata)
  SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::text, $7::uuid, $8::uuid, 'CREATING'::"LeaseStatus", $9::int,
         $10::timestamptz, $11::timestamptz, $12::text, $13::bytea, $14::text, $15::timestamptz, $15::timestamptz,
         $10::timestamptz, $16::uuid, $17::text, $18::jsonb
   WHERE ${DEFINITION_LIVE("$2::uuid")}
  RETURNING id`;
