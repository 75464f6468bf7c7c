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

/** The activate transition as fixed SQL text: prepared once per connection (lease creation hot path). */
export const ACTIVATE_SQL = `
  WITH changed AS (
    UPDATE leases SET status = 'ACTIVE', state_cipher = $3, claimed_by = NULL, claimed_until = NULL,
           next_attempt_at = NULL, updated_at = $4
     WHERE id = $1::uuid AND status = 'CREATING' AND claimed_by = $2
    RETURNING leases.id
  )
  INSERT INTO lease_events (lease_id, event_type, user_id, service_account_id, ip_address, user_agent, metadata, created_at)
  SELECT id, $5, $6::uuid, $7::uuid, $8, $9, $10::jsonb, $4 FROM changed
  RETURNING lease_id`;

export const INSERT_CREATING_SQL = `
  INSERT INTO leases (id, dynamic_secret_id, environment_id, provider, name, description, owner_user_id,
         owner_service_account_id, status, ttl_seconds, created_at, expires_at, upstream_identity, state_cipher,
         claimed_by, claimed_until, next_attempt_at, updated_at, engine_id, engine_role, metadata)
  VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7::uuid, $8::uuid, 'CREATING', $9, $10, $11, $12, $13, $14, $15, $15, $10,
          $16::uuid, $17, $18::jsonb)`;
