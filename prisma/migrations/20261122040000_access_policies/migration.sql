-- Access policies (issue #4): named path-pattern rules, bound to users and service accounts.

-- CreateTable
CREATE TABLE "policies" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "rules" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "policies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_bindings" (
    "id" UUID NOT NULL,
    "policy_id" UUID NOT NULL,
    "user_id" UUID,
    "service_account_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_bindings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "policies_name_key" ON "policies"("name");

-- CreateIndex
CREATE INDEX "policy_bindings_user_id_idx" ON "policy_bindings"("user_id");

-- CreateIndex
CREATE INDEX "policy_bindings_service_account_id_idx" ON "policy_bindings"("service_account_id");

-- CreateIndex
CREATE UNIQUE INDEX "policy_bindings_policy_id_user_id_key" ON "policy_bindings"("policy_id", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "policy_bindings_policy_id_service_account_id_key" ON "policy_bindings"("policy_id", "service_account_id");

-- AddForeignKey
ALTER TABLE "policy_bindings" ADD CONSTRAINT "policy_bindings_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "policies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_bindings" ADD CONSTRAINT "policy_bindings_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_bindings" ADD CONSTRAINT "policy_bindings_service_account_id_fkey" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: a binding names exactly one account, and the rules are a JSON array.
ALTER TABLE "policy_bindings" ADD CONSTRAINT "policy_bindings_owner_check" CHECK (
  ("user_id" IS NULL) <> ("service_account_id" IS NULL));
ALTER TABLE "policies" ADD CONSTRAINT "policies_rules_array_check" CHECK (jsonb_typeof("rules") = 'array');
