-- Dynamic engines and roles (issue #4, /v1/dynamic/), and leases minted from them: a lease now
-- names its engine and role, carries the caller's metadata, and has no environment when it was
-- minted on the server-wide engine surface. Written to match prisma migrate diff output.

-- CreateTable
CREATE TABLE "dynamic_engines" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "plugin" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "root_cipher" BYTEA,
    "root_pending_cipher" BYTEA,
    "rotation_started_at" TIMESTAMPTZ(6),
    "root_rotated_at" TIMESTAMPTZ(6),
    "root_credentials_path" TEXT,
    "default_ttl" INTEGER NOT NULL,
    "max_ttl" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "dynamic_engines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dynamic_roles" (
    "id" UUID NOT NULL,
    "engine_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "default_ttl" INTEGER,
    "max_ttl" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "dynamic_roles_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "leases" ALTER COLUMN "environment_id" DROP NOT NULL,
ADD COLUMN "engine_id" UUID,
ADD COLUMN "engine_role" TEXT,
ADD COLUMN "metadata" JSONB;

-- CreateIndex
CREATE UNIQUE INDEX "dynamic_engines_name_key" ON "dynamic_engines"("name");

-- CreateIndex
CREATE UNIQUE INDEX "dynamic_roles_engine_id_name_key" ON "dynamic_roles"("engine_id", "name");

-- CreateIndex
CREATE INDEX "leases_engine_id_created_at_idx" ON "leases"("engine_id", "created_at");

-- AddForeignKey
ALTER TABLE "leases" ADD CONSTRAINT "leases_engine_id_fkey" FOREIGN KEY ("engine_id") REFERENCES "dynamic_engines"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dynamic_roles" ADD CONSTRAINT "dynamic_roles_engine_id_fkey" FOREIGN KEY ("engine_id") REFERENCES "dynamic_engines"("id") ON DELETE CASCADE ON UPDATE CASCADE;
