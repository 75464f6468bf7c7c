import type { AuditSink, Caller } from "../audit/events.js";
import { managementEvent } from "../audit/management-events.js";
import type { Clock } from "../clock.js";
import type { Actor } from "../leases/types.js";
import type { AppService } from "./service.js";

/**
 * The app operations the management API performs for a caller: the service's, with an audit event
 * recorded after each change. Reads pass through unrecorded.
 */
export function createAppManagement(
  svc: AppService,
  deps: {
    audit: AuditSink;
    clock: Clock;
    /** Revokes the live leases of a deleted app's environments (their definitions went with it). */
    leases?: { revokeLeasesOfDeletedEnvironments(environmentIds: string[], actor: Actor): Promise<number> } | undefined;
  },
) {
  return {
    async createApp(caller: Caller, name: string, environments?: string[]) {
      const app = await svc.createApp(name, environments);
      deps.audit.record([
        managementEvent("app.create", caller, deps.clock.now(), {
          appId: app.id,
          metadata: { name: app.name, environments: app.environments.map((e) => ({ id: e.id, name: e.name })) },
        }),
      ]);
      return app;
    },

    async addEnvironment(caller: Caller, appId: string, name: string) {
      const env = await svc.addEnvironment(appId, name);
      deps.audit.record([
        managementEvent("environment.create", caller, deps.clock.now(), { appId, environmentId: env.id, metadata: { name: env.name } }),
      ]);
      return env;
    },

    /**
     * The name is looked up first so the event still says which app it was once the app is gone.
     * The live leases of the app's environments are requested for revocation before the delete (if
     * that fails, nothing changed; if the delete then fails, they stay revoked: they were to go
     * with the app) and again after it, for those a racing create inserted meanwhile: that second
     * pass failing is recorded on the audit event, the app being gone.
     */
    async deleteApp(caller: Caller, appId: string) {
      const app = await svc.getApp(appId);
      const envIds = app.environments.map((e) => e.id);
      const actor = { principal: caller.principal, ipAddress: caller.meta.ipAddress, userAgent: caller.meta.userAgent };
      const revoke = async () => (await deps.leases?.revokeLeasesOfDeletedEnvironments(envIds, actor)) ?? 0;
      let revokingLeases = await revoke();
      await svc.deleteApp(appId);
      // The event says the second pass failed, not why: a database error's text is not for audit readers.
      let revocationError: string | undefined;
      try {
        revokingLeases += await revoke();
      } catch {
        revocationError = "Leases created during the delete could not be queued for revocation; they end at their TTL.";
      }
      deps.audit.record([
        managementEvent("app.delete", caller, deps.clock.now(), {
          appId,
          metadata: {
            name: app.name,
            environments: app.environments.map((e) => ({ id: e.id, name: e.name })),
            revokingLeases,
            ...(revocationError ? { revocationError } : {}),
          },
        }),
      ]);
    },

    getApp: (appId: string) => svc.getApp(appId),
    listApps: () => svc.listApps(),
  };
}

export type AppManagement = ReturnType<typeof createAppManagement>;
