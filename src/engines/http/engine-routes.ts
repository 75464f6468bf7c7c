import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { principalOf } from "../../auth/hooks.js";
import type { Container } from "../../container.js";
import { requestMeta } from "../../http/request-meta.js";
import type { App } from "../../http/types.js";
import { checkName, objectBody } from "../input.js";
import { toCreds, toEngine, toRole } from "../wire.js";
import { paths, requireAllowed } from "./access.js";

const engineParams = z.object({ engine: z.string() });
const roleParams = z.object({ engine: z.string(), role: z.string() });

/** Each route with and without its trailing slash (the guide writes none). */
export const both = (url: string) => [url, `${url}/`];

/**
 * /v1/dynamic/engines…: engines (`manage` on dynamic/engines/{engine} to write, `read` to look),
 * roles (same), rotate-root (`manage`) and creds (`read` on dynamic/engines/{engine}/roles/{role}).
 */
export function registerEngineRoutes(app: App, c: Container): void {
  const e = c.engines;
  const meta = (req: FastifyRequest) => requestMeta(req, c.config.TRUST_PROXY);
  const audit = (req: FastifyRequest, eventType: string, metadata: Record<string, unknown>) =>
    c.audit.record([{ eventType, occurredAt: c.clock.now(), principal: principalOf(req), ...meta(req), metadata }]);
  const manage = (req: FastifyRequest, engine: string) => requireAllowed(c, principalOf(req), paths.engine(engine), "manage", `manage engine '${engine}'`);
  const read = (req: FastifyRequest, engine: string) => requireAllowed(c, principalOf(req), paths.engine(engine), "read", `read engine '${engine}'`);

  for (const url of both("/v1/dynamic/engines")) {
    app.post(url, async (req, reply) => {
      const name = checkName(objectBody(req.body)["name"], "name");
      await manage(req, name);
      const engine = await e.engines.create(principalOf(req), req.body);
      audit(req, "engine.create", { engine: engine.name, type: engine.type, plugin: engine.plugin });
      return reply.code(201).send(toEngine(engine));
    });
    app.get(url, async (req) => {
      const all = await e.engines.list();
      const visible = [];
      for (const engine of all) if (await c.policies.allows(principalOf(req), paths.engine(engine.name), "read")) visible.push(toEngine(engine));
      return { engines: visible };
    });
  }

  for (const url of both("/v1/dynamic/engines/:engine")) {
    app.get(url, { schema: { params: engineParams } }, async (req) => {
      await read(req, req.params.engine);
      return toEngine(await e.engines.get(req.params.engine));
    });
    for (const mode of ["put", "patch"] as const) {
      app[mode](url, { schema: { params: engineParams } }, async (req) => {
        await manage(req, req.params.engine);
        const engine = await e.engines.update(principalOf(req), req.params.engine, req.body, mode);
        audit(req, "engine.update", { engine: engine.name });
        return toEngine(engine);
      });
    }
    app.delete(url, { schema: { params: engineParams } }, async (req) => {
      await manage(req, req.params.engine);
      const { revoked } = await e.engines.delete(req.params.engine, { principal: principalOf(req), ...meta(req) });
      audit(req, "engine.delete", { engine: req.params.engine, revokedLeases: revoked });
      return { engine: req.params.engine, deleted: true, revoked_leases: revoked };
    });
  }

  for (const url of both("/v1/dynamic/engines/:engine/rotate-root")) {
    app.post(url, { schema: { params: engineParams } }, async (req) => {
      await manage(req, req.params.engine);
      const engine = await e.rotation.rotate(req.params.engine);
      audit(req, "engine.rotate_root", { engine: engine.name });
      return { engine: engine.name, rotated: true, root_rotated_at: engine.rootRotatedAt?.toISOString() ?? null };
    });
  }

  for (const url of both("/v1/dynamic/engines/:engine/roles")) {
    app.post(url, { schema: { params: engineParams } }, async (req, reply) => {
      await manage(req, req.params.engine);
      const { engine, role } = await e.roles.create(req.params.engine, req.body);
      audit(req, "engine.role.create", { engine: engine.name, role: role.name });
      return reply.code(201).send(toRole(engine, role));
    });
    app.get(url, { schema: { params: engineParams } }, async (req) => {
      await read(req, req.params.engine);
      const { engine, roles } = await e.roles.list(req.params.engine);
      return { roles: roles.map((r) => toRole(engine, r)) };
    });
  }

  for (const url of both("/v1/dynamic/engines/:engine/roles/:role")) {
    app.get(url, { schema: { params: roleParams } }, async (req) => {
      await read(req, req.params.engine);
      const { engine, role } = await e.roles.get(req.params.engine, req.params.role);
      return toRole(engine, role);
    });
    app.delete(url, { schema: { params: roleParams } }, async (req) => {
      await manage(req, req.params.engine);
      await e.roles.delete(req.params.engine, req.params.role);
      audit(req, "engine.role.delete", { engine: req.params.engine, role: req.params.role });
      return { engine: req.params.engine, role: req.params.role, deleted: true };
    });
  }

  for (const url of both("/v1/dynamic/engines/:engine/creds/:role")) {
    app.post(url, { schema: { params: roleParams } }, async (req) => {
      const { engine, role } = req.params;
      const principal = principalOf(req);
      await requireAllowed(c, principal, paths.role(engine, role), "read", `get credentials from role '${role}' of engine '${engine}'`);
      return toCreds(await e.creds.issue(principal, { principal, ...meta(req) }, engine, role, req.body));
    });
  }
}
