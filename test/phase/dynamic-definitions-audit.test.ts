import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamicFixture, ROOT_PASSWORD, type DynamicFixture } from "./dynamic-helpers.js";

/** Definition create, update and delete are in the audit log, with actor and app, never the config. */
describe("dynamic secret definitions in the audit log", () => {
  let f: DynamicFixture;
  beforeAll(async () => {
    f = await dynamicFixture();
  });
  afterAll(async () => f?.close());

  it("records dynamic_secret.create, .update and .delete", async () => {
    const def = await f.createPg({ name: "audited", path: "/db" });
    const put = await f.call("PUT", f.url("", { id: def.id }), f.owner.auth, { description: "nightly" });
    expect(put.status).toBe(200);
    const del = await f.call("DELETE", f.url("", { id: def.id }), f.owner.auth);
    expect(del.status).toBe(200);
    await f.t.server.container.audit.flush();

    const res = await f.t.http
      .get(`/v1/audit/events?event_type=dynamic_secret.*&order=asc`)
      .set("Authorization", `Bearer ${f.t.ownerToken}`);
    expect(res.status).toBe(200);
    const events = res.body.events as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(events.map((e) => e["type"])).toEqual(["dynamic_secret.create", "dynamic_secret.update", "dynamic_secret.delete"]);
    for (const e of events) {
      expect(e).toMatchObject({
        actor: { type: "user", id: f.owner.id },
        app_id: f.appId,
        environment_id: f.envs["Development"],
        path: "/db",
        metadata: { dynamic_secret_id: def.id, name: "audited", provider: "postgresql" },
      });
    }
    expect(res.text).not.toContain(ROOT_PASSWORD);
  });
});
