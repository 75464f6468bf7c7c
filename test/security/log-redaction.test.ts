import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { h1Request, h2Connect, h2Request, makeCertificate, type Certificate } from "../http/tls-support.js";
import { startTestServer, testMasterKey, type TestServer } from "../support/server.js";

/** A value no log line could contain by chance. */
const distinct = (label: string) => `${label}-${randomBytes(12).toString("hex")}`;

/**
 * A whole session at LOG_LEVEL=trace: bootstrap, management calls, every secrets operation with
 * distinctive values and comments, refused tokens, bad bodies, a 500 from a tampered ciphertext,
 * shutdown. Afterwards no log line may contain a token, an Authorization header, a secret value,
 * a comment or the master key.
 */
describe("logs never carry secrets, at LOG_LEVEL=trace", () => {
  let t: TestServer;
  const masterKey = testMasterKey();
  const needles = new Map<string, string>();
  const keep = (label: string, value: string) => {
    needles.set(label, value);
    return value;
  };

  beforeAll(async () => {
    t = await startTestServer({ masterKey, env: { LOG_LEVEL: "trace", METRICS_TOKEN: keep("metrics token", distinct("metrics")) } });
    keep("master key", masterKey);
    keep("master key (hex)", Buffer.from(masterKey, "base64").toString("hex"));
    keep("bootstrap token", t.ownerToken);
  });
  afterAll(async () => t?.close());

  it("runs the flow", async () => {
    const owner = { Authorization: keep("owner Authorization", `Bearer ${t.ownerToken}`) };
    const app = await t.http.post("/v1/apps/").set(owner).send({ name: "redaction", environments: ["Development"] });
    expect(app.status).toBe(201);
    const sa = await t.http.post("/v1/service-accounts/").set(owner).send({ name: "deployer" });
    expect(sa.status).toBe(201);
    const grant = await t.http.post(`/v1/service-accounts/${sa.body.id}/access/`).set(owner).send({ app_id: app.body.id, environments: ["Development"] });
    expect(grant.status).toBe(200);
    const issued = await t.http.post(`/v1/service-accounts/${sa.body.id}/tokens/`).set(owner).send({ name: "ci" });
    expect(issued.status).toBe(201);
    keep("SA token", issued.body.token);
    keep("SA phase token", issued.body.phase_token);
    const saAuth = { Authorization: keep("SA Authorization", issued.body.authorization) };
    const user = await t.http.post("/v1/users/").set(owner).send({ email: "dev@example.com", role: "Developer" });
    const pat = await t.http.post(`/v1/users/${user.body.id}/tokens/`).set(owner).send({ name: "pat", expires_in: 3600 });
    expect(pat.status).toBe(201);
    keep("user token", pat.body.token);

    const url = `/v1/secrets/?app_id=${app.body.id}&env=Development`;
    const created = await t.http.post(url).set(saAuth).send({
      secrets: [
        { key: "DB_PASSWORD", value: keep("value 1", distinct("v1")), comment: keep("comment 1", distinct("c1")) },
        { key: "API_KEY", value: keep("value 2", distinct("v2")), comment: keep("comment 2", distinct("c2")), path: "/svc" },
        { key: "REF", value: "${DB_PASSWORD}" },
      ],
    });
    expect(created.status).toBe(200);
    const [db, api] = created.body as { id: string }[];
    expect((await t.http.get(url).set(saAuth)).status).toBe(200);
    expect((await t.http.get(`${url}&key=DB_PASSWORD`).set(saAuth)).status).toBe(200);
    const updated = await t.http.put(url).set(saAuth).send({
      secrets: [{ id: db!.id, value: keep("value 3", distinct("v3")), comment: keep("comment 3", distinct("c3")) }],
    });
    expect(updated.status).toBe(200);
    expect((await t.http.delete(url).set(saAuth).send({ secrets: [api!.id] })).status).toBe(200);

    // Refused: a well-formed unknown token, a real token under the wrong type, a garbage header.
    const unknown = keep("unknown token", randomBytes(32).toString("hex"));
    expect((await t.http.get(url).set("Authorization", `Bearer ServiceAccount ${unknown}`)).status).toBe(401);
    expect((await t.http.get(url).set("Authorization", `Bearer User ${issued.body.token}`)).status).toBe(401);
    expect((await t.http.get(url).set("Authorization", keep("garbage header", `Basic ${distinct("basic")}`))).status).toBe(401);
    // Bad bodies carrying a value: broken JSON, and a schema error.
    const broken = await t.http.post(url).set(saAuth).set("Content-Type", "application/json")
      .send(`{"secrets":[{"key":"X","value":"${keep("value in broken JSON", distinct("vb"))}"`);
    expect(broken.status).toBe(400);
    const badEntry = await t.http.post(url).set(saAuth).send({ secrets: [{ key: 42, value: keep("value in bad entry", distinct("ve")) }] });
    expect(badEntry.status).toBe(400);
    const badMgmt = await t.http.post("/v1/apps/").set(owner).set("Content-Type", "application/json")
      .send(`{"name": "${keep("text in broken management JSON", distinct("mb"))}`);
    expect(badMgmt.status).toBe(400);

    // A 500: the stored ciphertext of a value no longer opens.
    await t.db.query(`UPDATE secrets SET value_cipher = set_byte(value_cipher, 30, (get_byte(value_cipher, 30) + 1) % 256) WHERE id = $1`, [db!.id]);
    const failed = await t.http.get(url).set(saAuth);
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: "Internal server error." });

    // Metrics: scraped with its token, and with a wrong one.
    expect((await t.http.get("/metrics").set("Authorization", `Bearer ${needles.get("metrics token")}`)).status).toBe(200);
    expect((await t.http.get("/metrics").set("Authorization", keep("wrong metrics Authorization", `Bearer ${distinct("wrong")}`))).status).toBe(401);
    expect((await t.http.get("/readyz")).status).toBe(200);

    // Revoke the SA token, and use it once more.
    const tokens = await t.http.get(`/v1/service-accounts/${sa.body.id}/tokens/`).set(owner);
    expect((await t.http.delete(`/v1/service-accounts/${sa.body.id}/tokens/${tokens.body[0].id}/`).set(owner)).status).toBe(204);
    expect((await t.http.get(url).set(saAuth)).status).toBe(401);
  });

  it("no log line contains any of them", async () => {
    await t.close(); // shutdown logs too
    const logs = t.logs();
    // The run was really logged at trace: every request, and the 500 with its error.
    expect(logs.filter((l) => l.includes('"msg":"incoming request"')).length).toBeGreaterThanOrEqual(20);
    expect(logs.some((l) => l.includes('"msg":"unhandled error"'))).toBe(true);
    // Every request line carries its request id.
    const requestLines = logs.map((l) => JSON.parse(l) as { msg: string; reqId?: unknown }).filter((l) => /^(incoming request|request completed)$/.test(l.msg));
    expect(requestLines.filter((l) => typeof l.reqId !== "string" || l.reqId === "")).toEqual([]);
    const leaks = [...needles].flatMap(([label, needle]) =>
      logs.filter((l) => l.includes(needle)).map((l) => `${label}: ${l.slice(0, 300)}`),
    );
    expect(leaks).toEqual([]);
  });
});

/**
 * The same over HTTPS: HTTP/1.1 and HTTP/2 requests with tokens, a metrics token and request ids,
 * a server whose private key must never be logged.
 */
describe("logs never carry secrets over HTTPS and HTTP/2, at LOG_LEVEL=trace", () => {
  let t: TestServer;
  let cert: Certificate;
  const metricsToken = distinct("metrics-tls");

  beforeAll(async () => {
    cert = makeCertificate();
    t = await startTestServer({ env: { LOG_LEVEL: "trace", METRICS_TOKEN: metricsToken, TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile } });
  });
  afterAll(async () => {
    await t?.close();
    cert?.cleanup();
  });

  it("no token, Authorization header or key material is logged; request lines carry reqId", async () => {
    const owner = { authorization: `Bearer ${t.ownerToken}` };
    const h1 = await h1Request(t.url, cert.cert, { path: "/v1/apps/", headers: { ...owner, "x-request-id": "tls-h1-request" } });
    expect(h1.status).toBe(200);
    const session = await h2Connect(t.url, cert.cert);
    try {
      const created = await h2Request(session, { method: "POST", path: "/v1/apps/", headers: { ...owner, "x-request-id": "tls-h2-request" }, body: { name: "tls-logs" } });
      expect(created.status).toBe(201);
      const scraped = await h2Request(session, { path: "/metrics", headers: { authorization: `Bearer ${metricsToken}` } });
      expect(scraped.status).toBe(200);
      const refused = await h2Request(session, { path: "/metrics", headers: { authorization: "Bearer not-the-metrics-token-0123" } });
      expect(refused.status).toBe(401);
    } finally {
      session.close();
    }
    await t.close();

    const logs = t.logs();
    const keyPem = readFileSync(cert.keyFile, "utf8");
    const keyBody = keyPem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    const needles: [string, string][] = [
      ["owner token", t.ownerToken],
      ["metrics token", metricsToken],
      ["wrong metrics token", "not-the-metrics-token-0123"],
      ["private key (base64 body)", keyBody.slice(0, 40)],
      ["PEM header", "PRIVATE KEY"],
    ];
    expect(needles.flatMap(([label, needle]) => logs.filter((l) => l.includes(needle)).map((l) => `${label}: ${l.slice(0, 300)}`))).toEqual([]);
    const lines = logs.map((l) => JSON.parse(l) as { msg: string; reqId?: string; req?: { url: string } });
    const h1Lines = lines.filter((l) => l.reqId === "tls-h1-request").map((l) => l.msg);
    const h2Lines = lines.filter((l) => l.reqId === "tls-h2-request").map((l) => l.msg);
    expect(h1Lines).toEqual(["incoming request", "request completed"]);
    expect(h2Lines).toEqual(["incoming request", "request completed"]);
    const requestLines = lines.filter((l) => /^(incoming request|request completed)$/.test(l.msg));
    expect(requestLines.length).toBeGreaterThanOrEqual(4);
    expect(requestLines.filter((l) => typeof l.reqId !== "string" || l.reqId === "")).toEqual([]);
  });
});
