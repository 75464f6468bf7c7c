import type { Bytes } from "../crypto/aead.js";
import type { Database } from "../db/database.js";

export interface EnvironmentRecord {
  id: string;
  appId: string;
  name: string;
  wrappedKey: Uint8Array;
}

const envSelect = { id: true, appId: true, name: true, wrappedKey: true } as const;

/** Apps and their environments. Environment names are unique per app, case-insensitively. */
export function createAppRepository(db: Pick<Database, "prisma" | "query">) {
  const { prisma } = db;
  return {
    findApp(id: string) {
      return prisma.app.findUnique({ where: { id }, include: { environments: { orderBy: { sortOrder: "asc" }, select: { id: true, name: true } } } });
    },

    /** Apps whose name matches case-insensitively (Phase's cross-app references use names). */
    findAppsByName(name: string) {
      return prisma.app.findMany({ where: { name: { equals: name, mode: "insensitive" } }, select: { id: true, name: true } });
    },

    listApps() {
      return prisma.app.findMany({
        orderBy: { createdAt: "asc" },
        include: { environments: { orderBy: { sortOrder: "asc" }, select: { id: true, name: true } } },
      });
    },

    /** Creates the app and its environments in one transaction; each environment brings its wrapped key. */
    createApp(input: { id: string; name: string; environments: { id: string; name: string; wrappedKey: Bytes }[] }) {
      return prisma.app.create({
        data: {
          id: input.id,
          name: input.name,
          environments: {
            create: input.environments.map((e, i) => ({
              id: e.id,
              name: e.name,
              nameLower: e.name.toLowerCase(),
              sortOrder: i,
              wrappedKey: e.wrappedKey,
            })),
          },
        },
        include: { environments: { orderBy: { sortOrder: "asc" }, select: { id: true, name: true } } },
      });
    },

    async deleteApp(id: string): Promise<boolean> {
      const { count } = await prisma.app.deleteMany({ where: { id } });
      return count === 1;
    },

    async addEnvironment(appId: string, env: { id: string; name: string; wrappedKey: Bytes }) {
      const last = await prisma.environment.aggregate({ where: { appId }, _max: { sortOrder: true } });
      return prisma.environment.create({
        data: {
          id: env.id,
          appId,
          name: env.name,
          nameLower: env.name.toLowerCase(),
          sortOrder: (last._max.sortOrder ?? -1) + 1,
          wrappedKey: env.wrappedKey,
        },
        select: { id: true, name: true },
      });
    },

    findEnvironment(id: string): Promise<EnvironmentRecord | null> {
      return prisma.environment.findUnique({ where: { id }, select: envSelect });
    },

    findEnvironmentByName(appId: string, name: string): Promise<EnvironmentRecord | null> {
      return prisma.environment.findUnique({ where: { appId_nameLower: { appId, nameLower: name.toLowerCase() } }, select: envSelect });
    },

    /**
     * Phase's app_id + env lookup for a request in one round trip: does the app exist, the
     * environment (name matched case-insensitively), and, for a given account, its grant there.
     */
    async findAppEnvironment(
      appId: string,
      envName: string,
      account: { userId?: string; serviceAccountId?: string } | null,
    ): Promise<{ appFound: boolean; environment: EnvironmentRecord | null; granted: boolean }> {
      const userId = account?.userId ?? null;
      const saId = account?.serviceAccountId ?? null;
      const rows = await db.query<{ app_id: string; id: string | null; name: string | null; wrapped_key: Uint8Array | null; granted: boolean }>(
        `SELECT a.id AS app_id, e.id, e.name, e.wrapped_key,
                (e.id IS NOT NULL AND EXISTS (
                   SELECT 1 FROM environment_access x
                    WHERE x.environment_id = e.id
                      AND (x.user_id = $3::uuid OR x.service_account_id = $4::uuid))) AS granted
           FROM apps a
           LEFT JOIN environments e ON e.app_id = a.id AND e.name_lower = $2
          WHERE a.id = $1::uuid`,
        [appId, envName.toLowerCase(), userId, saId],
        { name: "lh_app_environment" },
      );
      const r = rows[0];
      if (!r) return { appFound: false, environment: null, granted: false };
      const environment = r.id ? { id: r.id, appId: r.app_id, name: r.name!, wrappedKey: r.wrapped_key! } : null;
      return { appFound: true, environment, granted: r.granted };
    },

    findEnvironmentsByNames(appId: string, names: string[]) {
      return prisma.environment.findMany({
        where: { appId, nameLower: { in: names.map((n) => n.toLowerCase()) } },
        select: { id: true, name: true, nameLower: true },
      });
    },

    allEnvironmentKeys() {
      return prisma.environment.findMany({ select: { id: true, wrappedKey: true } });
    },
  };
}

export type AppRepository = ReturnType<typeof createAppRepository>;
