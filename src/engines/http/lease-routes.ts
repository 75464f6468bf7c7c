import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { principalOf } from "../../auth/hooks.js";
import type { Container } from "../../container.js";
import { requestMeta } from "../../http/request-meta.js";
import type { App } from "../../http/types.js";
import type { LeaseRecord } from "../../leases/types.js";
import { EngineErrors } from "../errors.js";
import { objectBody } from "../input.js";
import { toLease } from "../wire.js";
import { mayActOnLease, paths, requireAllowed } from "./access.js";
import { both } from "./engine-routes.js";

const idParams = z.object({ id: z.string() });
const listQuery = z.object({
  engine: z.string().optional(),
  role: z.string().refine((r) => !r.includes("\u0000"), "must not contain NUL characters").optional(),
  status: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * /v1/dynamic/leases…: list (filtered to what the caller may read), get, renew, revoke,
 * revoke-prefix. A lease's owner may do anything to it; others need `read` (get, list) or `revoke`
 * on dynamic/leases/{lease_id}, `manage` on its engine to renew it, and `manage` on the engine
 * for revoke-prefix.
 */
export function registerLeaseRoutes(app: App, c: Container): void {
  const e = c.engines;
  const meta = (req: FastifyRequest) => requestMeta(req, c.config.TRUST_PROXY);
  const actor = (req: FastifyRequest) => ({ principal: principalOf(req), ...meta(req) });
  const render = async (l: LeaseRecord) => toLease(l, l.engineId ? ((await e.engineNames()).get(l.engineId) ?? null) : null, c.clock.now());

  /** The lease, if the caller may `permission` it; otherwise lease_not_found (read) or permission_denied. */
  async function leaseFor(req: FastifyRequest, id: string, permission: "read" | "revoke"): Promise<LeaseRecord> {
    const lease = await e.leases.find(id);
    if (await mayActOnLease(c, principalOf(req), lease, permission)) return lease;
    if (permission === "read" || !(await mayActOnLease(c, principalOf(req), lease, "read"))) throw EngineErrors.leaseNotFound();
    throw EngineErrors.permissionDenied(`${permission} this lease`);
  }

  for (const url of both("/v1/dynamic/leases")) {
    app.get(url, { schema: { querystring: listQuery } }, async (req) => {
      const p = principalOf(req);
      const leases = await e.leases.list(req.query, req.query.limit, (l) => mayActOnLease(c, p, l, "read"));
      const names = await e.engineNames();
      const now = c.clock.now();
      return { leases: leases.map((l) => toLease(l, l.engineId ? (names.get(l.engineId) ?? null) : null, now)) };
    });
  }

  for (const url of both("/v1/dynamic/leases/revoke-prefix")) {
    app.post(url, async (req) => {
      const body = objectBody(req.body);
      const { prefix, engine, role } = body;
      if (typeof prefix !== "string") throw EngineErrors.invalidRequest("prefix is required (e.g. \"lease_\").");
      if (typeof engine !== "string" || engine === "") throw EngineErrors.invalidRequest("engine is required.");
      if (role !== undefined && typeof role !== "string") throw EngineErrors.invalidRequest("role must be a string.");
      if (typeof role === "string" && role.includes("\u0000")) throw EngineErrors.invalidRequest("role must not contain NUL characters.");
      await requireAllowed(c, principalOf(req), paths.engine(engine), "manage", `revoke the leases of engine '${engine}'`);
      const r = await e.leases.revokePrefix(actor(req), engine, prefix, role);
      c.audit.record([{ eventType: "engine.revoke_prefix", occurredAt: c.clock.now(), principal: principalOf(req), ...meta(req), metadata: { engine, prefix, role, ...r } }]);
      return { engine, prefix, ...(role ? { role } : {}), revoked: r.revoked, requested: r.requested, pending: r.pending };
    });
  }

  for (const url of both("/v1/dynamic/leases/:id")) {
    app.get(url, { schema: { params: idParams } }, async (req) => render(await leaseFor(req, req.params.id, "read")));
    app.delete(url, { schema: { params: idParams } }, async (req) => {
      const lease = await leaseFor(req, req.params.id, "revoke");
      return render(await e.leases.revoke(actor(req), lease));
    });
  }

  for (const url of both("/v1/dynamic/leases/:id/renew")) {
    app.post(url, { schema: { params: idParams } }, async (req) => {
      const p = principalOf(req);
      const lease = await leaseFor(req, req.params.id, "read");
      if (!(await mayActOnLease(c, p, lease, "revoke"))) {
        const engine = lease.engineId ? (await e.engineNames()).get(lease.engineId) : undefined;
        if (!engine || !(await c.policies.allows(p, paths.engine(engine), "manage"))) throw EngineErrors.permissionDenied("renew this lease");
      }
      const { lease: renewed, warnings } = await e.leases.renew(actor(req), lease, req.body);
      return { ...(await render(renewed)), warnings };
    });
  }
}
