import type { Prisma } from "../db/database.js";

// PLACEHOLDER: the secrets repository is being written (issue #2); only the lookup the auth layer needs.
export function createSecretRepository(prisma: Prisma) {
  return {
    async findEnvironmentIdOfSecret(id: string): Promise<string | null> {
      const row = await prisma.secret.findUnique({ where: { id }, select: { environmentId: true } });
      return row?.environmentId ?? null;
    },
  };
}

export type SecretRepository = ReturnType<typeof createSecretRepository>;
