import { z } from "zod";
import type { App } from "../http/types.js";
import type { IdentityManagement } from "../identity/management.js";
import type { IdentityService } from "../identity/service.js";
import { registerAccountSubroutes } from "./account-routes.js";
import { callerOf } from "./caller.js";
import { AUTH_ERRORS, errors } from "./errors.js";
import { createUserBody, idParams, userResponse } from "./schemas.js";
import { withAndWithoutSlash } from "./slash.js";
import { toUser } from "./wire.js";

/**
 * /v1/users/: people. Who may create or manage which role is decided in src/identity/policy.ts
 * (an Owner: anyone; an Admin: Developers and themselves).
 */
export function registerUserRoutes(app: App, svc: IdentityService, identity: IdentityManagement, trustProxy: boolean): void {
  for (const url of withAndWithoutSlash("/v1/users/")) {
    app.post(
      url,
      { schema: { body: createUserBody, response: { 201: userResponse, ...errors(400, 409) } } },
      async (req, reply) => {
        const { email, username, full_name, role } = req.body;
        const user = await identity.createUser(callerOf(req, trustProxy), {
          email,
          username: username ?? undefined,
          fullName: full_name ?? undefined,
          role,
        });
        return reply.code(201).send(toUser(user));
      },
    );
    app.get(url, { schema: { response: { 200: z.array(userResponse), ...AUTH_ERRORS } } }, async () =>
      (await svc.listUsers()).map(toUser),
    );
  }

  for (const url of withAndWithoutSlash("/v1/users/:id/")) {
    app.get(url, { schema: { params: idParams, response: { 200: userResponse, ...errors(404) } } }, async (req) =>
      toUser(await svc.getUser(req.params.id)),
    );
  }

  registerAccountSubroutes(app, identity, "/v1/users/:id", "USER", trustProxy);
}
