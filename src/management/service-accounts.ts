import { z } from "zod";
import type { App } from "../http/types.js";
import type { IdentityManagement } from "../identity/management.js";
import type { IdentityService } from "../identity/service.js";
import { registerAccountSubroutes } from "./account-routes.js";
import { callerOf } from "./caller.js";
import { AUTH_ERRORS, errors } from "./errors.js";
import { createServiceAccountBody, idParams, serviceAccountResponse } from "./schemas.js";
import { withAndWithoutSlash } from "./slash.js";
import { toServiceAccount } from "./wire.js";

/** /v1/service-accounts/: machine identities; their tokens are what CI and deployments use. */
export function registerServiceAccountRoutes(app: App, svc: IdentityService, identity: IdentityManagement, trustProxy: boolean): void {
  for (const url of withAndWithoutSlash("/v1/service-accounts/")) {
    app.post(
      url,
      { schema: { body: createServiceAccountBody, response: { 201: serviceAccountResponse, ...errors(400, 409) } } },
      async (req, reply) => reply.code(201).send(toServiceAccount(await identity.createServiceAccount(callerOf(req, trustProxy), req.body.name))),
    );
    app.get(url, { schema: { response: { 200: z.array(serviceAccountResponse), ...AUTH_ERRORS } } }, async () =>
      (await svc.listServiceAccounts()).map(toServiceAccount),
    );
  }

  for (const url of withAndWithoutSlash("/v1/service-accounts/:id/")) {
    app.get(url, { schema: { params: idParams, response: { 200: serviceAccountResponse, ...errors(404) } } }, async (req) =>
      toServiceAccount(await svc.getServiceAccount(req.params.id)),
    );
  }

  registerAccountSubroutes(app, identity, "/v1/service-accounts/:id", "SERVICE_ACCOUNT", trustProxy);
}
