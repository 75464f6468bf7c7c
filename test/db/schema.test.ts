import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import { isUniqueViolation } from "../../src/db/prisma-errors.js";
import { Prisma } from "../../src/generated/prisma/client.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { openPg } from "./support.js";

const bytes = (n = 48) => new Uint8Array(randomBytes(n));
const hex = () => randomBytes(32).toString("hex");

/** The error Postgres raised for a CHECK constraint, as the Prisma client surfaces it. */
async function checkViolation(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err, "expected the write to be refused").toBeDefined();
  return String(err!.message);
}

describe("generated Prisma client against the migrated schema", () => {
  let t: TestDatabase;
  let db: Database;
  // One row of every model, created in dependency order; each test reads its model back.
  const ids = { app: randomUUID(), env: randomUUID(), folder: randomUUID(), secret: randomUUID(), tag: randomUUID(), user: randomUUID() };
  const more = { sa: randomUUID(), personal: randomUUID(), token: randomUUID(), saToken: randomUUID(), access: randomUUID() };
  const dyn = { def: randomUUID(), lease: randomUUID() };
  const covered = new Set<string>();

  beforeAll(async () => {
    t = await createTestDatabase();
    db = await openPg(t.url);
    await db.migrate();
  });
  afterAll(async () => {
    await db?.close();
    await t?.drop();
  });

  /** Creates a row through the client and checks a fresh read returns exactly what create returned. */
  async function roundTrip<T>(model: string, create: () => Promise<T>, read: () => Promise<T>): Promise<T> {
    const created = await create();
    expect(await read()).toEqual(created);
    covered.add(model);
    return created;
  }

  it("MasterKeyCheck", async () => {
    const canary = bytes();
    const row = await roundTrip("MasterKeyCheck", () => db.prisma.masterKeyCheck.create({ data: { canary } }), () => db.prisma.masterKeyCheck.findUniqueOrThrow({ where: { id: 1 } }));
    expect(row.id).toBe(1);
    expect(Buffer.from(row.canary).equals(Buffer.from(canary))).toBe(true);
    expect(row.rotatedAt).toBeNull();
  });

  it("App and Environment (nested create, case-insensitive unique name)", async () => {
    const wrappedKey = bytes(121);
    const app = await roundTrip(
      "App",
      () => db.prisma.app.create({ data: { id: ids.app, name: "shop", environments: { create: { id: ids.env, name: "Dev", nameLower: "dev", wrappedKey } } } }),
      () => db.prisma.app.findUniqueOrThrow({ where: { id: ids.app } }),
    );
    expect(app.name).toBe("shop");
    const env = await roundTrip("Environment", async () => db.prisma.environment.findUniqueOrThrow({ where: { id: ids.env } }), () =>
      db.prisma.environment.findUniqueOrThrow({ where: { appId_nameLower: { appId: ids.app, nameLower: "dev" } } }),
    );
    expect(Buffer.from(env.wrappedKey).equals(Buffer.from(wrappedKey))).toBe(true);
    expect(env.sortOrder).toBe(0);
    const dup = db.prisma.environment.create({ data: { id: randomUUID(), appId: ids.app, name: "DEV", nameLower: "dev", wrappedKey } });
    expect(isUniqueViolation(await dup.catch((e: unknown) => e))).toBe(true);
  });

  it("Folder, Secret, Tag and SecretTag", async () => {
    await roundTrip("Folder", () => db.prisma.folder.create({ data: { id: ids.folder, environmentId: ids.env, path: "/api" } }), () =>
      db.prisma.folder.findUniqueOrThrow({ where: { environmentId_path: { environmentId: ids.env, path: "/api" } } }),
    );
    const secret = await roundTrip(
      "Secret",
      () =>
        db.prisma.secret.create({
          data: { id: ids.secret, environmentId: ids.env, folderId: ids.folder, path: "/api", keyDigest: hex(), keyCipher: bytes(), valueCipher: bytes(), commentCipher: bytes(), type: "sealed" },
        }),
      () => db.prisma.secret.findUniqueOrThrow({ where: { id: ids.secret } }),
    );
    expect(secret).toMatchObject({ type: "sealed", version: 1, deletedAt: null });
    await roundTrip("Tag", () => db.prisma.tag.create({ data: { id: ids.tag, name: "backend" } }), () => db.prisma.tag.findUniqueOrThrow({ where: { name: "backend" } }));
    await roundTrip("SecretTag", () => db.prisma.secretTag.create({ data: { secretId: ids.secret, tagId: ids.tag } }), () =>
      db.prisma.secretTag.findUniqueOrThrow({ where: { secretId_tagId: { secretId: ids.secret, tagId: ids.tag } } }),
    );
    const withTags = await db.prisma.secret.findUniqueOrThrow({ where: { id: ids.secret }, include: { tags: { include: { tag: true } } } });
    expect(withTags.tags.map((x) => x.tag.name)).toEqual(["backend"]);
  });

  it("User, PersonalSecret, ServiceAccount, ApiToken (both kinds) and EnvironmentAccess", async () => {
    const user = await roundTrip("User", () => db.prisma.user.create({ data: { id: ids.user, email: "a@example.com", role: "OWNER" } }), () =>
      db.prisma.user.findUniqueOrThrow({ where: { email: "a@example.com" } }),
    );
    expect(user).toMatchObject({ role: "OWNER", username: null, deletedAt: null });
    await roundTrip("PersonalSecret", () => db.prisma.personalSecret.create({ data: { id: more.personal, secretId: ids.secret, userId: ids.user, valueCipher: bytes() } }), () =>
      db.prisma.personalSecret.findUniqueOrThrow({ where: { secretId_userId: { secretId: ids.secret, userId: ids.user } } }),
    );
    await roundTrip("ServiceAccount", () => db.prisma.serviceAccount.create({ data: { id: more.sa, name: "ci" } }), () => db.prisma.serviceAccount.findUniqueOrThrow({ where: { id: more.sa } }));
    const expiresAt = new Date("2030-01-02T03:04:05.678Z");
    const token = await roundTrip(
      "ApiToken",
      () => db.prisma.apiToken.create({ data: { id: more.token, kind: "USER", userId: ids.user, name: "laptop", tokenHash: hex(), expiresAt } }),
      () => db.prisma.apiToken.findUniqueOrThrow({ where: { id: more.token } }),
    );
    expect(token.expiresAt).toEqual(expiresAt);
    await db.prisma.apiToken.create({ data: { id: more.saToken, kind: "SERVICE_ACCOUNT", serviceAccountId: more.sa, name: "ci", tokenHash: hex() } });
    await roundTrip("EnvironmentAccess", () => db.prisma.environmentAccess.create({ data: { id: more.access, environmentId: ids.env, serviceAccountId: more.sa } }), () =>
      db.prisma.environmentAccess.findUniqueOrThrow({ where: { environmentId_serviceAccountId: { environmentId: ids.env, serviceAccountId: more.sa } } }),
    );
  });

  it("AuditEvent (BigInt id, JSON metadata) and AuditReadSet (bytea id, uuid[]/text[]/int[] lists)", async () => {
    const occurredAt = new Date("2026-11-22T10:00:00.123Z");
    const metadata = { keys: ["A", "B"], count: 2, nested: { ok: true } };
    const setId = bytes();
    const set = await roundTrip(
      "AuditReadSet",
      () => db.prisma.auditReadSet.create({ data: { id: setId, secretIds: [randomUUID()], keyDigests: [hex()], versions: [2], paths: ["/a"], lastEventAt: occurredAt } }),
      () => db.prisma.auditReadSet.findUniqueOrThrow({ where: { id: setId } }),
    );
    const created = await db.prisma.auditEvent.create({ data: { occurredAt, eventType: "secret.read", environmentId: ids.env, metadata, readSetId: set.id } });
    expect(typeof created.id).toBe("bigint");
    await roundTrip("AuditEvent", async () => created, () => db.prisma.auditEvent.findUniqueOrThrow({ where: { id: created.id } }));
    expect(created.metadata).toEqual(metadata);
  });

  it("ServerKey, DynamicSecret (text[] column), Lease (enum status) and LeaseEvent", async () => {
    await roundTrip("ServerKey", () => db.prisma.serverKey.create({ data: { purpose: "leases", wrappedKey: bytes() } }), () => db.prisma.serverKey.findUniqueOrThrow({ where: { purpose: "leases" } }));
    const def = await roundTrip(
      "DynamicSecret",
      () =>
        db.prisma.dynamicSecret.create({
          data: { id: dyn.def, environmentId: ids.env, path: "/", name: "aws", provider: "aws_iam", configCipher: bytes(), keyMapCipher: bytes(), keyDigests: [hex(), hex()], defaultTtl: 3600, maxTtl: 86400 },
        }),
      () => db.prisma.dynamicSecret.findUniqueOrThrow({ where: { id: dyn.def } }),
    );
    expect(def.keyDigests).toHaveLength(2);
    const now = new Date("2026-11-22T10:00:00.000Z");
    const lease = await roundTrip(
      "Lease",
      () =>
        db.prisma.lease.create({
          data: { id: dyn.lease, dynamicSecretId: dyn.def, environmentId: ids.env, provider: "aws_iam", name: "l", ownerUserId: ids.user, status: "ACTIVE", ttlSeconds: 60, createdAt: now, expiresAt: new Date(now.getTime() + 60_000), upstreamIdentity: "u", stateCipher: bytes() },
        }),
      () => db.prisma.lease.findUniqueOrThrow({ where: { id: dyn.lease } }),
    );
    expect(lease).toMatchObject({ status: "ACTIVE", attempts: 0, revokedAt: null });
    const event = await db.prisma.leaseEvent.create({ data: { leaseId: dyn.lease, eventType: "created", createdAt: now, metadata: { ttl: 60 } } });
    await roundTrip("LeaseEvent", async () => event, () => db.prisma.leaseEvent.findUniqueOrThrow({ where: { id: event.id } }));
  });

  it("Policy (jsonb rules) and PolicyBinding", async () => {
    const rules = [{ path_pattern: "dynamic/engines/*/roles/ro", permissions: ["read"] }];
    const policy = await roundTrip("Policy", () => db.prisma.policy.create({ data: { id: randomUUID(), name: "ro", rules } }), () =>
      db.prisma.policy.findUniqueOrThrow({ where: { name: "ro" } }),
    );
    expect(policy.rules).toEqual(rules);
    await roundTrip("PolicyBinding", () => db.prisma.policyBinding.create({ data: { id: randomUUID(), policyId: policy.id, serviceAccountId: more.sa } }), () =>
      db.prisma.policyBinding.findUniqueOrThrow({ where: { policyId_serviceAccountId: { policyId: policy.id, serviceAccountId: more.sa } } }),
    );
  });

  it("DynamicEngine (JSON config, sealed root), DynamicRole and a Lease minted from them (no environment)", async () => {
    const engine = await roundTrip(
      "DynamicEngine",
      () =>
        db.prisma.dynamicEngine.create({
          data: { id: randomUUID(), name: "support-db", type: "database", plugin: "postgresql", provider: "postgresql", config: { connection_url: "postgresql://h/db" }, rootCipher: bytes(), defaultTtl: 3600, maxTtl: 86400 },
        }),
      () => db.prisma.dynamicEngine.findUniqueOrThrow({ where: { name: "support-db" } }),
    );
    expect(engine).toMatchObject({ rootPendingCipher: null, rootCredentialsPath: null, config: { connection_url: "postgresql://h/db" } });
    await roundTrip(
      "DynamicRole",
      () => db.prisma.dynamicRole.create({ data: { id: randomUUID(), engineId: engine.id, name: "readonly", config: { creation_statements: ["x"] }, maxTtl: 28800 } }),
      () => db.prisma.dynamicRole.findUniqueOrThrow({ where: { engineId_name: { engineId: engine.id, name: "readonly" } } }),
    );
    const now = new Date("2026-11-22T10:00:00.000Z");
    const lease = await db.prisma.lease.create({
      data: { id: randomUUID(), engineId: engine.id, engineRole: "readonly", metadata: { purpose: "report" }, provider: "postgresql", name: "support-db/readonly", status: "ACTIVE", ttlSeconds: 60, createdAt: now, expiresAt: now, upstreamIdentity: "v", stateCipher: bytes() },
    });
    expect(lease).toMatchObject({ environmentId: null, dynamicSecretId: null, engineRole: "readonly", metadata: { purpose: "report" } });
  });

  it("covered every model of the generated client", () => {
    expect([...covered].sort()).toEqual(Object.keys(Prisma.ModelName).sort());
  });

  describe("hand-written constraints", () => {
    const secretRow = (deletedAt: Date | null, keyDigest: string) => ({
      id: randomUUID(), environmentId: ids.env, path: "/dup", keyDigest, keyCipher: bytes(), valueCipher: bytes(), commentCipher: bytes(), deletedAt,
    });

    it("secrets_live_key_unique: two live rows with one key clash; soft-deleted rows never do", async () => {
      const digest = hex();
      await db.prisma.secret.create({ data: secretRow(new Date(), digest) });
      await db.prisma.secret.create({ data: secretRow(new Date(), digest) }); // two deleted: fine
      await db.prisma.secret.create({ data: secretRow(null, digest) }); // one live: fine
      const clash = await db.prisma.secret.create({ data: secretRow(null, digest) }).catch((e: unknown) => e);
      expect(isUniqueViolation(clash)).toBe(true);
      expect(String((clash as Error).message)).toMatch(/environment_id|secrets_live_key_unique/);
      expect(await t.query(`SELECT count(*)::int AS n FROM secrets WHERE key_digest = $1`, [digest])).toEqual([{ n: 3 }]);
      await db.prisma.secret.create({ data: { ...secretRow(null, digest), path: "/other" } }); // another path: fine
    });

    it("api_tokens_owner_check: a token names exactly the account of its kind", async () => {
      const base = { name: "x", tokenHash: "", expiresAt: null };
      const bad = [
        { kind: "USER" as const, userId: null, serviceAccountId: null },
        { kind: "USER" as const, userId: null, serviceAccountId: more.sa },
        { kind: "USER" as const, userId: ids.user, serviceAccountId: more.sa },
        { kind: "SERVICE_ACCOUNT" as const, userId: ids.user, serviceAccountId: null },
        { kind: "SERVICE_ACCOUNT" as const, userId: null, serviceAccountId: null },
      ];
      for (const owner of bad) {
        const msg = await checkViolation(db.prisma.apiToken.create({ data: { ...base, ...owner, id: randomUUID(), tokenHash: hex() } }));
        expect(msg).toMatch(/api_tokens_owner_check/);
      }
      expect(await t.query(`SELECT count(*)::int AS n FROM api_tokens`)).toEqual([{ n: 2 }]);
    });

    it("environment_access_owner_check: a grant names exactly one account", async () => {
      for (const owner of [{ userId: null, serviceAccountId: null }, { userId: ids.user, serviceAccountId: more.sa }]) {
        const msg = await checkViolation(db.prisma.environmentAccess.create({ data: { id: randomUUID(), environmentId: ids.env, ...owner } }));
        expect(msg).toMatch(/environment_access_owner_check/);
      }
      await db.prisma.environmentAccess.create({ data: { id: randomUUID(), environmentId: ids.env, userId: ids.user } });
    });

    it("policy_bindings_owner_check and policies_rules_array_check", async () => {
      const policyId = (await db.prisma.policy.findUniqueOrThrow({ where: { name: "ro" } })).id;
      for (const owner of [{ userId: null, serviceAccountId: null }, { userId: ids.user, serviceAccountId: more.sa }]) {
        const msg = await checkViolation(db.prisma.policyBinding.create({ data: { id: randomUUID(), policyId, ...owner } }));
        expect(msg).toMatch(/policy_bindings_owner_check/);
      }
      const msg = await checkViolation(db.prisma.policy.create({ data: { id: randomUUID(), name: "obj", rules: { path_pattern: "a" } } }));
      expect(msg).toMatch(/policies_rules_array_check/);
    });

    it("dynamic_secrets_live_name_unique and leases_owner_check", async () => {
      const def = { environmentId: ids.env, path: "/", name: "aws", provider: "aws_iam", configCipher: bytes(), keyMapCipher: bytes(), keyDigests: [], defaultTtl: 1, maxTtl: 1 };
      const clash = await db.prisma.dynamicSecret.create({ data: { ...def, id: randomUUID() } }).catch((e: unknown) => e);
      expect(isUniqueViolation(clash)).toBe(true);
      await db.prisma.dynamicSecret.create({ data: { ...def, id: randomUUID(), deletedAt: new Date() } });
      const now = new Date();
      const lease = { environmentId: ids.env, provider: "p", name: "n", status: "ACTIVE" as const, ttlSeconds: 1, createdAt: now, expiresAt: now, upstreamIdentity: "u", stateCipher: bytes() };
      const msg = await checkViolation(db.prisma.lease.create({ data: { ...lease, id: randomUUID(), ownerUserId: ids.user, ownerServiceAccountId: more.sa } }));
      expect(msg).toMatch(/leases_owner_check/);
    });
  });
});
