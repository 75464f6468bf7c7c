-- The audit log API (GET /v1/audit/events): newest-first pages keyed by (timestamp, id), filtered by
-- app, environment, account and event type, over audit_events and lease_events.

-- DropIndex (replaced by (occurred_at, id), which also orders ties for the page cursor)
DROP INDEX "audit_events_occurred_at_idx";

-- CreateIndex
CREATE INDEX "audit_events_occurred_at_id_idx" ON "audit_events"("occurred_at", "id");

-- CreateIndex
CREATE INDEX "audit_events_app_id_occurred_at_idx" ON "audit_events"("app_id", "occurred_at");

-- CreateIndex
CREATE INDEX "audit_events_user_id_occurred_at_idx" ON "audit_events"("user_id", "occurred_at");

-- CreateIndex
CREATE INDEX "audit_events_service_account_id_occurred_at_idx" ON "audit_events"("service_account_id", "occurred_at");

-- CreateIndex
CREATE INDEX "lease_events_created_at_id_idx" ON "lease_events"("created_at", "id");

-- Hand-written: event types other than secret.read (management, lease and write events, rare next
-- to reads) found by type without scanning the reads. Reads, the bulk of the rows, are not indexed
-- here, so the hot insert path pays nothing for it.
CREATE INDEX "audit_events_event_type_occurred_at_idx" ON "audit_events"("event_type", "occurred_at") WHERE "event_type" <> 'secret.read';
