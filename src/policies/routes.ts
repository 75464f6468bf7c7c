import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { principalOf } from "../auth/hooks.js";
import { BadRequestError } from "../errors.js";
import { requestMeta } from "../http/request-meta.js";
import type { App } from "../http/types.js";
import { AUTH_ERRORS, errors } from "../management/errors.js";
import { withAndWithoutSlash } from "../management/slash.js";
import type { BindingRecord, BoundAccount, PolicyRecord } from "./repository.js";
import {
  bindingBody,
  bindingQuery,
  bindingResponse,
  createPolicyBody,
  nameParams,
  policyResponse,
  replacePolicyBody,
} from "./schemas.js";
import type { PolicyActor, PolicyService } from "./service.js";

/**
 * /v1/policies/: access policies and their bindings. Registered inside the management scope, so
 * every route needs an Owner or Admin user token (checked before the body is read).
 */
export function registerPolicyRoutes(app: App, policies: PolicyService, trustProxy: boolean): void {
  const actor = (req: FastifyRequest): PolicyActor => ({ principal: principalOf(req), meta: requestMeta(req, trustProxy) });

  for (const url of withAndWithoutSlash("/v1/policies/")) {
    app.post(
      url,
      { schema: { body: createPolicyBody, response: { 201: policyResponse, ...errors(400, 409) } } },
      async (req, reply) => reply.code(201).send(toPolicy(await policies.createPolicy(actor(req), req.body.name, req.body.rules))),
    );
    app.get(url, { schema: { response: { 200: z.array(policyResponse), ...AUTH_ERRORS } } }, async () =>
      (await policies.listPolicies()).map(toPolicy),
    );
  }

  for (const url of withAndWithoutSlash("/v1/policies/:name/")) {
    app.get(url, { schema: { params: nameParams, response: { 200: policyResponse, ...errors(404) } } }, async (req) =>
      toPolicy(await policies.getPolicy(req.params.name)),
    );
    app.put(
      url,
      { schema: { params: nameParams, body: replacePolicyBody, response: { 200: policyResponse, ...errors(400, 404) } } },
      async (req) => {
        const { name, rules } = req.body;
        if (name !== undefined && name !== req.params.name) {
          throw new BadRequestError("Invalid body field 'name': must be the policy's name (policies cannot be renamed)");
        }
        return toPolicy(await policies.replaceRules(actor(req), req.params.name, rules));
      },
    );
    app.delete(url, { schema: { params: nameParams, response: { 204: z.null(), ...errors(404) } } }, async (req, reply) => {
      await policies.deletePolicy(actor(req), req.params.name);
      return reply.code(204).send(null);
    });
  }

  for (const url of withAndWithoutSlash("/v1/policies/:name/bindings/")) {
    app.get(url, { schema: { params: nameParams, response: { 200: z.array(bindingResponse), ...errors(404) } } }, async (req) =>
      (await policies.listBindings(req.params.name)).map((b) => toBinding(req.params.name, b)),
    );
    app.post(
      url,
      { schema: { params: nameParams, body: bindingBody, response: { 201: bindingResponse, ...errors(400, 404, 409) } } },
      async (req, reply) => {
        const binding = await policies.bind(actor(req), req.params.name, accountOf(req.body, "body"));
        return reply.code(201).send(toBinding(req.params.name, binding));
      },
    );
    // The account in a JSON body or in the query string (some clients send no body with DELETE).
    app.delete(
      url,
      {
        schema: {
          params: nameParams,
          querystring: bindingQuery,
          body: bindingBody.nullish(), // no body: Fastify passes null
          response: { 204: z.null(), ...errors(400, 404) },
        },
      },
      async (req, reply) => {
        const inQuery = req.query.user_id !== undefined || req.query.service_account_id !== undefined;
        const body = req.body ?? undefined;
        if (body !== undefined && inQuery) {
          throw new BadRequestError("Name the account in the body or in the query string, not both.");
        }
        const account = body !== undefined ? accountOf(body, "body") : accountOf(req.query, "query");
        await policies.unbind(actor(req), req.params.name, account);
        return reply.code(204).send(null);
      },
    );
  }
}

function accountOf(fields: { user_id?: string | undefined; service_account_id?: string | undefined }, where: "body" | "query"): BoundAccount {
  const { user_id, service_account_id } = fields;
  if ((user_id === undefined) === (service_account_id === undefined)) {
    throw new BadRequestError(`Invalid ${where}: must name exactly one of user_id and service_account_id`);
  }
  return user_id !== undefined ? { userId: user_id } : { serviceAccountId: service_account_id! };
}

function toPolicy(p: PolicyRecord): z.input<typeof policyResponse> {
  return {
    id: p.id,
    name: p.name,
    rules: p.rules.map((r) => ({ path_pattern: r.path_pattern, permissions: [...r.permissions] })),
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

function toBinding(policy: string, b: BindingRecord): z.input<typeof bindingResponse> {
  return { policy, user_id: b.userId, service_account_id: b.serviceAccountId, created_at: b.createdAt.toISOString() };
}
