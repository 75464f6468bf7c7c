import { z } from "zod";
import type { AppManagement } from "../apps/management.js";
import type { App } from "../http/types.js";
import { callerOf } from "./caller.js";
import { appResponse, createAppBody, createEnvironmentBody, environmentResponse, idParams } from "./schemas.js";
import { withAndWithoutSlash } from "./slash.js";
import { AUTH_ERRORS, errors } from "./errors.js";
import { toApp } from "./wire.js";

/**
 * /v1/apps/: apps and their environments. Deleting an app deletes its environments, secrets,
 * dynamic secrets and grants; the live leases of its dynamic secrets are revoked (by the reaper).
 */
export function registerAppRoutes(app: App, apps: AppManagement, trustProxy: boolean): void {
  const caller = (req: Parameters<typeof callerOf>[0]) => callerOf(req, trustProxy);

  for (const url of withAndWithoutSlash("/v1/apps/")) {
    app.post(
      url,
      { schema: { body: createAppBody, response: { 201: appResponse, ...errors(400, 409) } } },
      async (req, reply) => reply.code(201).send(toApp(await apps.createApp(caller(req), req.body.name, req.body.environments))),
    );
    app.get(url, { schema: { response: { 200: z.array(appResponse), ...AUTH_ERRORS } } }, async () =>
      (await apps.listApps()).map(toApp),
    );
  }

  for (const url of withAndWithoutSlash("/v1/apps/:id/")) {
    app.get(url, { schema: { params: idParams, response: { 200: appResponse, ...errors(404) } } }, async (req) =>
      toApp(await apps.getApp(req.params.id)),
    );
    app.delete(url, { schema: { params: idParams, response: { 204: z.null(), ...errors(404) } } }, async (req, reply) => {
      await apps.deleteApp(caller(req), req.params.id);
      return reply.code(204).send(null);
    });
  }

  for (const url of withAndWithoutSlash("/v1/apps/:id/environments/")) {
    app.post(
      url,
      { schema: { params: idParams, body: createEnvironmentBody, response: { 201: environmentResponse, ...errors(400, 404, 409) } } },
      async (req, reply) => {
        const env = await apps.addEnvironment(caller(req), req.params.id, req.body.name);
        return reply.code(201).send({ id: env.id, name: env.name });
      },
    );
  }
}
