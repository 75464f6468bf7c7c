-- The read lists (random ids and digests, about 5 KB per row) do not compress: store them out of
-- line without trying to, which costs PostgreSQL about a third of the insert's CPU.
-- Prisma's schema language has no column storage setting: this lives only here.
ALTER TABLE "audit_events" ALTER COLUMN "secret_ids" SET STORAGE EXTERNAL,
ALTER COLUMN "key_digests" SET STORAGE EXTERNAL,
ALTER COLUMN "versions" SET STORAGE EXTERNAL,
ALTER COLUMN "paths" SET STORAGE EXTERNAL;
