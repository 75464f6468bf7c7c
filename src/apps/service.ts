import { randomUUID } from "node:crypto";
import { isUuid } from "../auth/environment-context.js";
import type { MasterKey } from "../crypto/envelope.js";
import { BadRequestError, ConflictError, NotFoundError } from "../errors.js";
import { isUniqueViolation } from "../db/prisma-errors.js";
import type { AppRepository } from "./repository.js";

export const DEFAULT_ENVIRONMENTS = ["Development", "Staging", "Production"];

/** Apps and environments; every environment is born with its own data key wrapped by the master key. */
export function createAppService(deps: { apps: AppRepository; masterKey: MasterKey }) {
  const newEnvironment = (name: string) => {
    const id = randomUUID();
    return { id, name, wrappedKey: deps.masterKey.createEnvironmentKeys(id).wrapped };
  };

  // A non-UUID id cannot name an app, and must not reach the uuid column (a type error there is a 500).
  const findApp = (id: string) => (isUuid(id) ? deps.apps.findApp(id) : Promise.resolve(null));
  const conflict = (name: string) => new ConflictError(`An app named '${name}' already exists.`);

  return {
    /**
     * App names are unique. Cross-app secret references find apps by name case-insensitively, so a
     * name differing only in case is refused too (checked first; the unique index backs up exact matches).
     */
    async createApp(name: string, environments: string[] = DEFAULT_ENVIRONMENTS) {
      const lowered = environments.map((e) => e.toLowerCase());
      if (new Set(lowered).size !== lowered.length) throw new BadRequestError("Environment names must be unique (case-insensitive).");
      if ((await deps.apps.findAppsByName(name)).length > 0) throw conflict(name);
      try {
        return await deps.apps.createApp({ id: randomUUID(), name, environments: environments.map(newEnvironment) });
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict(name);
        throw e;
      }
    },

    async addEnvironment(appId: string, name: string) {
      const app = await findApp(appId);
      if (!app) throw new NotFoundError(`App with ID ${appId} not found`);
      try {
        return await deps.apps.addEnvironment(appId, newEnvironment(name));
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`Environment '${name}' already exists in App ${appId}`);
        throw e;
      }
    },

    async getApp(appId: string) {
      const app = await findApp(appId);
      if (!app) throw new NotFoundError(`App with ID ${appId} not found`);
      return app;
    },

    listApps: () => deps.apps.listApps(),

    async deleteApp(appId: string) {
      if (!isUuid(appId) || !(await deps.apps.deleteApp(appId))) throw new NotFoundError(`App with ID ${appId} not found`);
    },
  };
}

export type AppService = ReturnType<typeof createAppService>;
