-- Read sets: the list of secrets a secret.read returned (ids, key digests, versions, paths) is
-- stored once, under the SHA-256 of its content, however many reads return the same list: each
-- read row names it in read_set_id. Rows written before this migration keep their inline lists.

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "read_set_id" BYTEA;

-- CreateTable
CREATE TABLE "audit_read_sets" (
    "id" BYTEA NOT NULL,
    "secret_ids" UUID[],
    "key_digests" TEXT[],
    "versions" INTEGER[],
    "paths" TEXT[],
    "last_event_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "audit_read_sets_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_read_sets_last_event_at_idx" ON "audit_read_sets"("last_event_at");
