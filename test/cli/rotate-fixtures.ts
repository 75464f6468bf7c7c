import type { Container } from "../../src/container.js";
import type { Database } from "../../src/db/database.js";
import type { Caller, CreateSecretInput } from "../../src/secrets/types.js";

/** Secrets in two environments, including a sealed one, a folder path, tags and a personal override. */
export const SEEDED: Record<string, CreateSecretInput[]> = {
  Development: [
    { key: "DATABASE_URL", value: "postgres://dev:pw@db/dev", comment: "primary", type: "secret", override: { value: "postgres://me@localhost/dev" } },
    { key: "API_KEY", value: "sk_dev_ünïcode_✓", comment: "", type: "sealed", path: "/backend", tags: ["api"] },
  ],
  Production: [{ key: "DATABASE_URL", value: "postgres://prod:pw@db/prod", comment: "", type: "config" }],
};

export async function ownerCaller(c: Container): Promise<Caller> {
  const u = await c.db.prisma.user.findFirstOrThrow({ where: { role: "OWNER" } });
  const token = await c.db.prisma.apiToken.findFirstOrThrow({ where: { userId: u.id } });
  return {
    principal: { kind: "user", id: u.id, role: u.role, email: u.email, username: u.username, fullName: u.fullName, tokenId: token.id, createdAt: u.createdAt, updatedAt: u.updatedAt },
    meta: { ipAddress: "127.0.0.1", userAgent: "rotation-test" },
  };
}

const envRecord = (c: Container, id: string) =>
  c.db.prisma.environment.findUniqueOrThrow({ where: { id }, select: { id: true, appId: true, name: true, wrappedKey: true } });

/** Creates app "shop" (Development, Staging, Production) with SEEDED through the secret service. */
export async function seedSecrets(c: Container): Promise<string> {
  const app = await c.appService.createApp("shop");
  const caller = await ownerCaller(c);
  for (const env of app.environments) {
    const inputs = SEEDED[env.name];
    if (inputs) await c.secretService.create(caller, await envRecord(c, env.id), inputs);
  }
  return app.id;
}

/** What the service decrypts: "<env>:<path>:<key>" -> value (and the override's value). */
export async function decryptAll(c: Container, appId: string): Promise<Record<string, string>> {
  const caller = await ownerCaller(c);
  const out: Record<string, string> = {};
  const envs = await c.db.prisma.environment.findMany({ where: { appId }, orderBy: { sortOrder: "asc" }, select: { id: true } });
  for (const { id } of envs) {
    const env = await envRecord(c, id);
    for (const s of await c.secretService.list(caller, env, {})) {
      out[`${env.name}:${s.path}:${s.key}`] = s.value;
      if (s.override) out[`${env.name}:${s.path}:${s.key}:override`] = s.override.value;
    }
  }
  return out;
}

export const EXPECTED_PLAINTEXT = {
  "Development:/:DATABASE_URL": "postgres://dev:pw@db/dev",
  "Development:/:DATABASE_URL:override": "postgres://me@localhost/dev",
  "Development:/backend:API_KEY": "sk_dev_ünïcode_✓",
  "Production:/:DATABASE_URL": "postgres://prod:pw@db/prod",
};

/** Every secret-bearing row, all columns, for byte-for-byte comparison. */
export async function secretRows(db: Database): Promise<Record<string, unknown[]>> {
  const s = await db.session();
  try {
    return {
      secrets: await s.query(`SELECT * FROM secrets ORDER BY id`),
      personal_secrets: await s.query(`SELECT * FROM personal_secrets ORDER BY id`),
      secret_tags: await s.query(`SELECT * FROM secret_tags ORDER BY secret_id, tag_id`),
    };
  } finally {
    await s.release();
  }
}

export async function environmentRows(db: Database): Promise<Array<{ id: string; wrapped_key: Uint8Array; updated_at: Date }>> {
  const s = await db.session();
  try {
    return await s.query(`SELECT id, wrapped_key, updated_at FROM environments ORDER BY id`);
  } finally {
    await s.release();
  }
}
