import { z } from "zod";
import type { App } from "../http/types.js";
import type { IdentityManagement } from "../identity/management.js";
import type { Account } from "../identity/service.js";
import { callerOf } from "./caller.js";
import { errors } from "./errors.js";
import { accessBody, accessResponse, createTokenBody, idParams, issuedTokenResponse, tokenParams, tokenResponse } from "./schemas.js";
import { withAndWithoutSlash } from "./slash.js";
import { toAccessList, toToken } from "./wire.js";

/**
 * The sub-routes users and service accounts share, under `base` (`/v1/users/:id` or
 * `/v1/service-accounts/:id`): environment grants (`access/`) and API tokens (`tokens/`).
 */
export function registerAccountSubroutes(app: App, identity: IdentityManagement, base: string, kind: Account["kind"], trustProxy: boolean): void {
  const account = (id: string): Account => ({ kind, id });
  const caller = (req: Parameters<typeof callerOf>[0]) => callerOf(req, trustProxy);

  for (const url of withAndWithoutSlash(`${base}/access/`)) {
    app.get(url, { schema: { params: idParams, response: { 200: accessResponse, ...errors(404) } } }, async (req) =>
      toAccessList(await identity.listAccess(account(req.params.id))),
    );
    // Grant: idempotent; answers with the account's whole access list.
    app.post(
      url,
      { schema: { params: idParams, body: accessBody, response: { 200: accessResponse, ...errors(400, 404) } } },
      async (req) => {
        const { app_id, environments } = req.body;
        return toAccessList(await identity.grantAccess(caller(req), account(req.params.id), app_id, environments));
      },
    );
    // Revoke: the same body; names not granted change nothing.
    app.delete(
      url,
      { schema: { params: idParams, body: accessBody, response: { 200: accessResponse, ...errors(400, 404) } } },
      async (req) => {
        const { app_id, environments } = req.body;
        return toAccessList(await identity.revokeAccess(caller(req), account(req.params.id), app_id, environments));
      },
    );
  }

  for (const url of withAndWithoutSlash(`${base}/tokens/`)) {
    app.get(url, { schema: { params: idParams, response: { 200: z.array(tokenResponse), ...errors(404) } } }, async (req) =>
      (await identity.listTokens(account(req.params.id))).map(toToken),
    );
    app.post(
      url,
      { schema: { params: idParams, body: createTokenBody, response: { 201: issuedTokenResponse, ...errors(400, 404) } } },
      async (req, reply) => {
        const { name, expires_in } = req.body;
        const issued = await identity.issueToken(caller(req), account(req.params.id), name, expires_in ?? undefined);
        return reply.code(201).send(issued);
      },
    );
  }

  for (const url of withAndWithoutSlash(`${base}/tokens/:token_id/`)) {
    app.delete(url, { schema: { params: tokenParams, response: { 204: z.null(), ...errors(404) } } }, async (req, reply) => {
      await identity.revokeToken(caller(req), account(req.params.id), req.params.token_id);
      return reply.code(204).send(null);
    });
  }
}
