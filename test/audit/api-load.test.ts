import autocannon from "autocannon";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, testMasterKey, type TestServer, type TestServerOptions } from "../support/server.js";
import { readAll, type WireEvent } from "./api-helpers.js";

/** `amount` GETs of the secrets list over real HTTP, `connections` at a time. */
function fire(url: string, auth: string, amount: number, connections: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, headers: { Authorization: auth, "User-Agent": "load/1.0" }, amount, connections, timeout: 60 }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/** An app whose Development holds `count` secrets, and a service account token that may read them. */
async function readable(t: TestServer, count: number) {
  const c = t.server.container;
  const app = await c.appService.createApp("loaded", ["Development"]);
  const sa = await c.identityService.createServiceAccount("reader");
  await c.identityService.grantAccess({ kind: "SERVICE_ACCOUNT", id: sa.id }, app.id, ["Development"]);
  const token = await c.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: sa.id }, "load");
  const secrets = Array.from({ length: count }, (_, i) => ({ key: `KEY_${i}`, value: `v${i}` }));
  const created = await t.http.post(`/v1/secrets/?app_id=${app.id}&env=Development`).set("Authorization", token.authorization).send({ secrets });
  expect(created.status).toBe(200);
  const ids = (created.body as { id: string }[]).map((s) => s.id).sort();
  return { url: `${t.url}/v1/secrets/?app_id=${app.id}&env=Development`, auth: token.authorization, tokenId: token.id, ids, envId: app.environments[0]!.id };
}

describe("every read under load is in the audit log", () => {
  const servers: TestServer[] = [];
  const start = async (opts: TestServerOptions) => {
    const t = await startTestServer(opts);
    servers.push(t);
    return t;
  };
  afterEach(async () => {
    for (const t of servers.splice(0).reverse()) await t.close();
  });

  const expectReads = (events: WireEvent[], r: { tokenId: string; ids: string[]; envId: string }) => {
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) {
      expect(e.type).toBe("secret.read");
      expect(e.actor.token_id).toBe(r.tokenId);
      expect(e.environment_id).toBe(r.envId);
      expect(e.user_agent).toBe("load/1.0");
      expect(e.secrets!.map((s) => s.id).sort()).toEqual(r.ids);
    }
  };

  it("500 GETs, 50 at a time: exactly 500 secret.read events for the token, read back page by page", async () => {
    const t = await start({});
    const r = await readable(t, 20);
    const result = await fire(r.url, r.auth, 500, 50);
    expect({ ok: result["2xx"], non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts }).toEqual({ ok: 500, non2xx: 0, errors: 0, timeouts: 0 });

    const { events, pages } = await readAll(t, { token_id: r.tokenId, event_type: "secret.read", limit: 100 });
    expect(events).toHaveLength(500);
    expect(pages).toBe(5);
    expectReads(events, r);
    const rows = await t.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_events WHERE token_id = $1 AND event_type = 'secret.read'`, [r.tokenId]);
    expect(rows[0]!.n).toBe("500");
  }, 180_000);

  it("a graceful close writes what is still buffered: the next server's API shows every read", async () => {
    // The writer's timer and batch size are out of reach: nothing is written until close.
    const masterKey = testMasterKey();
    const env = { AUDIT_FLUSH_INTERVAL_MS: "3600000", AUDIT_BATCH_SIZE: "10000" };
    const first = await start({ masterKey, env });
    const r = await readable(first, 5);
    const result = await fire(r.url, r.auth, 200, 20);
    expect(result["2xx"]).toBe(200);
    const buffered = await first.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_events WHERE event_type = 'secret.read'`);
    expect(buffered[0]!.n).toBe("0");

    await first.server.close();
    const second = await start({ masterKey, db: first.db, env: { LEASEHOLD_BOOTSTRAP_TOKEN: first.ownerToken } });
    const { events } = await readAll(second, { token_id: r.tokenId, event_type: "secret.read", limit: 1000 });
    expect(events).toHaveLength(200);
    expectReads(events, r);
  }, 180_000);
});
