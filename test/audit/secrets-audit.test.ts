import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { AUDIT_EVENTS_WITH_LISTS } from "../support/audit-sql.js";

/** End to end: Phase's secrets routes record who/what/where for every read and write. */
describe("audit trail of /v1/secrets/", () => {
  let t: TestServer;
  let appId: string;
  let envId: string;
  let saId: string;
  let tokenId: string;
  let auth: string;
  const url = () => `/v1/secrets/?app_id=${appId}&env=Development`;

  beforeAll(async () => {
    t = await startTestServer();
    const c = t.server.container;
    const app = await c.appService.createApp("audited", ["Development", "Production"]);
    appId = app.id;
    envId = app.environments.find((e) => e.name === "Development")!.id;
    const sa = await c.identityService.createServiceAccount("auditor");
    saId = sa.id;
    await c.identityService.grantAccess({ kind: "SERVICE_ACCOUNT", id: sa.id }, app.id, ["Development"]);
    const token = await c.identityService.issueToken({ kind: "SERVICE_ACCOUNT", id: sa.id }, "ci");
    tokenId = token.id;
    auth = token.authorization;
  });
  afterAll(async () => t?.close());

  const events = async (type: string) => {
    await t.server.container.audit.flush();
    return t.db.query(
      `SELECT event_type, account_type, user_id, service_account_id, token_id, ip_address, user_agent, app_id,
              environment_id, secret_id, path, key_digest, version, secret_ids, key_digests, versions, paths
         FROM ${AUDIT_EVENTS_WITH_LISTS} WHERE event_type = $1 ORDER BY id`,
      [type],
    );
  };
  const noList = { secret_ids: null, key_digests: null, versions: null, paths: null };
  const who = () => ({
    account_type: "service_account",
    user_id: null,
    service_account_id: saId,
    token_id: tokenId,
    ip_address: "127.0.0.1",
    app_id: appId,
    environment_id: envId,
  });

  it("create, update and delete record one row per secret, a read one row listing every secret; with token, IP, user agent and key digest", async () => {
    const created = await t.http
      .post(url())
      .set("Authorization", auth)
      .set("User-Agent", "phase-cli/2.1 audit-test")
      .set("X-Forwarded-For", "203.0.113.9") // ignored: TRUST_PROXY is off
      .send({ secrets: [{ key: "A", value: "1" }, { key: "B", value: "2" }, { key: "C", value: "3", path: "/deep" }] });
    expect(created.status).toBe(200);
    const secrets = created.body as { id: string; key: string; keyDigest: string; path: string; version: number }[];
    const row = (s: (typeof secrets)[number], version: number, ua: string) => ({
      ...who(),
      user_agent: ua,
      secret_id: s.id,
      path: s.path,
      key_digest: s.keyDigest,
      version,
      ...noList,
    });

    expect(await events("secret.create")).toEqual(
      secrets.map((s) => ({ event_type: "secret.create", ...row(s, 1, "phase-cli/2.1 audit-test") })),
    );

    const read = await t.http.get(url()).set("Authorization", auth).set("User-Agent", "reader/1.0");
    expect(read.status).toBe(200);
    expect(read.body).toHaveLength(3);
    const returned = read.body as typeof secrets;
    expect(returned.map((s) => s.id).sort()).toEqual(secrets.map((s) => s.id).sort());
    expect(await events("secret.read")).toEqual([
      {
        event_type: "secret.read",
        ...who(),
        user_agent: "reader/1.0",
        secret_id: null,
        path: null,
        key_digest: null,
        version: null,
        // In the response's order, position by position.
        secret_ids: returned.map((s) => s.id),
        key_digests: returned.map((s) => s.keyDigest),
        versions: [1, 1, 1],
        paths: returned.map((s) => s.path),
      },
    ]);

    // A second read is a second row; a read that returns nothing records nothing.
    const filtered = await t.http.get(`${url()}&path=/deep`).set("Authorization", auth).set("User-Agent", "reader/2.0");
    expect(filtered.body).toHaveLength(1);
    const none = await t.http.get(`${url()}&path=/nowhere`).set("Authorization", auth);
    expect(none.status).toBe(200);
    expect(none.body).toEqual([]);
    const reads = await events("secret.read");
    expect(reads).toHaveLength(2);
    expect(reads[1]).toMatchObject({ user_agent: "reader/2.0", secret_ids: [secrets[2]!.id], key_digests: [secrets[2]!.keyDigest], versions: [1], paths: ["/deep"] });

    const updated = await t.http.put(url()).set("Authorization", auth).set("User-Agent", "writer/1.0").send({ secrets: [{ id: secrets[0]!.id, value: "changed" }] });
    expect(updated.status).toBe(200);
    expect(await events("secret.update")).toEqual([{ event_type: "secret.update", ...row(secrets[0]!, 2, "writer/1.0") }]);

    const deleted = await t.http.delete(url()).set("Authorization", auth).unset("User-Agent").send({ secrets: [secrets[1]!.id] });
    expect(deleted.status).toBe(200);
    const [del] = await events("secret.delete");
    expect(del).toMatchObject({ event_type: "secret.delete", secret_id: secrets[1]!.id, token_id: tokenId, user_agent: "Unknown" });
  });

  it("a refused request records nothing", async () => {
    const before = await t.db.query(`SELECT count(*)::int AS n FROM audit_events`);
    const denied = await t.http.get(`/v1/secrets/?app_id=${appId}&env=Production`).set("Authorization", auth);
    expect(denied.status).toBe(401);
    expect(denied.body).toEqual({ error: "Service account cannot access this environment" });
    await t.server.container.audit.flush();
    expect(await t.db.query(`SELECT count(*)::int AS n FROM audit_events`)).toEqual(before);
  });
});
