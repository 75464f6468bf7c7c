import { readFileSync } from "node:fs";
import Fastify from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { z, type ZodType } from "zod";
import { DOCS_CSP, registeredRoutes, registerOpenApi } from "../../src/http/openapi.js";
import type { App } from "../../src/http/types.js";
import { DYNAMIC, LEASES, SECRETS } from "../../src/phase/openapi.js";
import { dynamicFixture, type DynamicFixture } from "../phase/dynamic-helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { checkCoverage, type Doc } from "./openapi-coverage.js";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

describe("the OpenAPI document and /docs", () => {
  let f: DynamicFixture;
  let doc: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the document, read as JSON

  beforeAll(async () => {
    f = await dynamicFixture();
    const res = await f.t.http.get("/openapi.json");
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => f?.close());

  it("is OpenAPI 3.1, served without credentials, with our info, servers, tags and security schemes", async () => {
    const res = await f.t.http.get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "Leasehold", version });
    expect(doc.servers).toEqual([{ url: "/", description: "This server" }]);
    const tags = doc.tags.map((t: { name: string }) => t.name);
    expect(tags).toEqual(expect.arrayContaining(["Phase secrets", "Dynamic secrets", "Management", "Operations"]));
    const schemes = doc.components.securitySchemes;
    expect(Object.keys(schemes).sort()).toEqual(["BearerToken", "ServiceAccountToken", "UserToken"]);
    for (const s of Object.values(schemes) as Record<string, string>[]) {
      expect(s).toMatchObject({ type: "http", scheme: "bearer" });
      expect(s["description"]).toContain("Authorization: Bearer ");
    }
    // swagger-ui's copies are the same document.
    expect((await f.t.http.get("/docs/json")).body).toEqual(doc);
    const yaml = await f.t.http.get("/docs/yaml");
    expect(yaml.status).toBe(200);
    expect(parseYaml(yaml.text)).toEqual(doc);
  });

  it("lists every registered route: as an operation, or as a documented alias of one, or hidden for a stated reason", () => {
    const { checked, problems } = checkCoverage(registeredRoutes(f.t.server.app), doc);
    expect(problems).toEqual([]);
    // Not vacuous: the routes known today were all checked, aliases included.
    const known = ["GET /v1/secrets/", "POST /service/public/v1/secrets/", "DELETE /v1/secrets/dynamic/leases/", "GET /v1/apps/:id", "GET /public/"];
    expect(checked).toEqual(expect.arrayContaining(known));
    expect(checked.length).toBeGreaterThan(100);
    expect(doc.paths["/v1/secrets/"].get["x-leasehold-aliases"]).toEqual([
      "/public/v1/secrets/",
      "/service/public/v1/secrets/",
      "/service/v1/secrets/",
    ]);
    expect(doc.paths["/v1/apps/{id}/"].delete["x-leasehold-aliases"]).toEqual(["/v1/apps/{id}"]);
    expect(doc.paths["/v1/apps/{id}"]).toBeUndefined();
  });

  it("tags, summarises and secures our operations; management schemas come from the routes' zod schemas", () => {
    const ops = Object.entries(doc.paths as Doc["paths"]).flatMap(([path, item]) =>
      Object.entries(item).map(([m, op]) => ({ path, m, op: op as { summary?: string; tags: string[] } })),
    );
    expect(ops.length).toBeGreaterThan(30);
    const tagNames: string[] = doc.tags.map((t: { name: string }) => t.name);
    const undescribed = ops.filter(({ op }) => !op.summary || op.tags?.length !== 1 || !tagNames.includes(op.tags[0]!));
    expect(undescribed.map(({ m, path }) => `${m.toUpperCase()} ${path} needs a summary and one of the document's tags`)).toEqual([]);
    const byTag = (tag: string) => ops.filter((o) => o.op.tags[0] === tag).map((o) => `${o.m.toUpperCase()} ${o.path}`);
    expect(byTag("Phase secrets")).toEqual(["GET /v1/secrets/", "POST /v1/secrets/", "PUT /v1/secrets/", "DELETE /v1/secrets/"]);
    expect(byTag("Dynamic secrets")).toEqual(expect.arrayContaining([
      "GET /v1/secrets/dynamic/", "POST /v1/secrets/dynamic/", "PUT /v1/secrets/dynamic/", "DELETE /v1/secrets/dynamic/",
      "GET /v1/secrets/dynamic/leases/", "PUT /v1/secrets/dynamic/leases/", "DELETE /v1/secrets/dynamic/leases/",
    ]));
    expect(byTag("Management").length).toBeGreaterThanOrEqual(23);
    expect(doc.paths["/v1/users/{id}/tokens/{token_id}/"].delete.summary).toBe("Revoke one of the user's tokens");
    expect(doc.paths["/v1/secrets/"].get.security).toEqual([{ ServiceAccountToken: [] }, { UserToken: [] }]);
    expect(doc.paths["/v1/users/"].get.security).toEqual([{ UserToken: [] }, { BearerToken: [] }]);
    expect(doc.paths["/"].get.security).toEqual([]);

    // The strict body schema of POST /v1/apps/ as the route validates it.
    const body = doc.paths["/v1/apps/"].post.requestBody.content["application/json"].schema;
    expect(body).toMatchObject({ type: "object", required: ["name"], additionalProperties: false });
    expect(body.properties.environments).toMatchObject({ type: "array", minItems: 1, maxItems: 50 });
    const created = doc.paths["/v1/service-accounts/{id}/tokens/"].post.responses;
    expect(Object.keys(created).sort()).toEqual(["201", "400", "401", "403", "404"]);
    expect(created["201"].description).toBe("Created");
    expect(Object.keys(created["201"].content["application/json"].schema.properties)).toEqual([
      "id", "name", "token", "phase_token", "authorization", "expires_at",
    ]);
    const parameters: { name: string; required: boolean }[] = doc.paths["/v1/secrets/"].get.parameters;
    const params = parameters.map((p) => `${p.name}${p.required ? "*" : ""}`);
    expect(params).toEqual(["app_id*", "env*", "path", "key", "tags", "dynamic", "lease", "lease_ttl"]);
  });

  it("the /v1/dynamic/ engine API documents its request bodies (hand-validated, so documentation only)", () => {
    const body = (method: string, path: string) => doc.paths[path]?.[method]?.requestBody?.content?.["application/json"]?.schema;
    const engine = body("post", "/v1/dynamic/engines");
    expect(engine.required).toEqual(["name", "type", "config"]);
    expect(Object.keys(engine.properties.config.properties)).toContain("root_credentials_path");
    expect(Object.keys(body("post", "/v1/dynamic/engines/{engine}/creds/{role}").properties)).toEqual(["ttl", "metadata"]);
    expect(body("post", "/v1/dynamic/leases/revoke-prefix").required).toEqual(["prefix", "engine"]);
    expect(Object.keys(body("post", "/v1/dynamic/leases/{id}/renew").properties)).toEqual(["increment"]);
    expect(body("patch", "/v1/dynamic/engines/{engine}").required).toBeUndefined();
  });

  it("Phase's documented reply schemas describe the real replies exactly (no field missing or extra)", async () => {
    const q = `app_id=${f.appId}&env=development`;
    /** Parses with the documented schema: a field the schema does not list would be stripped, and differ. */
    const exact = (schema: ZodType, body: unknown) => expect(schema.parse(body)).toEqual(body);
    const call = (m: "GET" | "POST" | "PUT" | "DELETE", url: string, auth: string, body?: unknown) => f.call(m, url, auth, body);

    const created = await call("POST", `/v1/secrets/?${q}`, f.owner.auth, {
      secrets: [{ key: "DB_URL", value: "x", comment: "c", tags: ["db"], path: "/api", override: { value: "mine" } }],
    });
    expect(created.status).toBe(200);
    exact(SECRETS.create.ok[1], created.body);
    expect(created.body[0].override).not.toBeNull(); // the override's shape is covered too
    const id = created.body[0].id as string;
    const updated = await call("PUT", `/v1/secrets/?${q}`, f.sa.auth, { secrets: [{ id, value: "y" }] });
    expect(updated.status).toBe(200);
    exact(SECRETS.update.ok[1], updated.body);

    const def = await f.createPg({ name: "doc-reader" });
    exact(DYNAMIC.create.ok[1], def);
    const leased = await call("GET", `/v1/secrets/?${q}&dynamic=true&lease=true`, f.sa.auth);
    expect(leased.status).toBe(200);
    expect(leased.body.map((s: { type: string }) => s.type)).toEqual(["secret", "dynamic"]);
    expect(leased.body[1].lease.credentials.length).toBeGreaterThan(0);
    exact(SECRETS.list.ok[1], leased.body);
    const listed = await call("GET", `/v1/secrets/dynamic/?${q}`, f.sa.auth);
    exact(DYNAMIC.list.ok[1], listed.body);
    const leases = await call("GET", `/v1/secrets/dynamic/leases/?secret_id=${def.id}`, f.sa.auth);
    expect(leases.body).toHaveLength(1);
    exact(LEASES.list.ok[1], leases.body);
    const leaseId = leases.body[0].id as string;
    exact(LEASES.renew.ok[1], (await call("PUT", `/v1/secrets/dynamic/leases/?${q}`, f.sa.auth, { lease_id: leaseId, ttl: 60 })).body);
    exact(LEASES.revoke.ok[1], (await call("DELETE", `/v1/secrets/dynamic/leases/?${q}&lease_id=${leaseId}`, f.sa.auth)).body);
    const gone = await call("DELETE", `/v1/secrets/dynamic/?${q}&id=${def.id}`, f.owner.auth);
    exact(DYNAMIC.remove.ok[1], gone.body);
    const deleted = await call("DELETE", `/v1/secrets/?${q}`, f.sa.auth, { secrets: [id] });
    exact(SECRETS.remove.ok[1], deleted.body);
    const denied = await call("GET", `/v1/secrets/?${q}`, "Bearer ServiceAccount nope");
    expect(denied.status).toBe(401);
    exact(z.object({ error: z.string() }), denied.body);
  });

  it("/docs is swagger-ui from the installed package (no CDN) under a strict Content-Security-Policy", async () => {
    for (const path of ["/docs", "/docs/"]) {
      const page = await f.t.http.get(path);
      expect(page.status).toBe(200);
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(page.headers["content-security-policy"]).toBe(DOCS_CSP);
      expect(page.text).toContain("<title>Leasehold API</title>");
      expect(page.text).not.toMatch(/(src|href)="(https?:)?\/\//); // every asset from this server
    }
    for (const asset of ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-initializer.js", "swagger-ui.css"]) {
      const res = await f.t.http.get(`/docs/static/${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers["content-security-policy"], asset).toBe(DOCS_CSP);
    }
    expect(DOCS_CSP).toContain("script-src 'self'");
    expect(DOCS_CSP).not.toContain("unsafe");
  });
});

describe("/openapi.json and /docs under rate limiting", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { RATE_LIMIT_DEFAULT: "1/minute" } });
  });
  afterAll(async () => t?.close());

  it("are never throttled (the limiter counts per account; these need none), while an account is", async () => {
    for (let i = 0; i < 4; i++) {
      expect((await t.http.get("/openapi.json")).status).toBe(200);
      expect((await t.http.get("/docs")).status).toBe(200);
      expect((await t.http.get("/docs/static/swagger-ui.css")).status).toBe(200);
    }
    const auth = `Bearer User ${t.ownerToken}`;
    expect((await t.http.get("/v1/apps/").set("Authorization", auth)).status).toBe(200);
    expect((await t.http.get("/v1/apps/").set("Authorization", auth)).status).toBe(429);
    expect((await t.http.get("/openapi.json")).status).toBe(200);
  });
});

describe("the coverage check, on a small app with broken, hidden and alias routes", () => {
  it("names a route whose schema cannot be converted (still listed, logged), a dangling alias and an unexplained hide", async () => {
    const logged: string[] = [];
    const app = Fastify({ logger: { level: "error", stream: { write: (l: string) => void logged.push(l) } } })
      .withTypeProvider<ZodTypeProvider>() as unknown as App;
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await registerOpenApi(app);
    const ok = z.object({ n: z.number() });
    app.get("/fine", { schema: { summary: "fine", response: { 200: ok } } }, async () => ({ n: 1 }));
    // A transform's output has no JSON Schema.
    const bad = z.object({ n: z.number().transform((n) => String(n)) });
    app.get("/broken/:id", { schema: { summary: "broken", response: { 200: bad } } }, async () => ({ n: "3" }));
    app.get("/fine/again", { config: { openapi: { aliasOf: "/fine" } } }, async () => ({ n: 1 }));
    app.get("/old", { config: { openapi: { aliasOf: "/nowhere" } } }, async () => ({ n: 1 }));
    app.get("/quiet", { schema: { hide: true } }, async () => ({ n: 1 }));
    try {
      const res = await app.inject({ method: "GET", url: "/openapi.json" });
      expect(res.statusCode).toBe(200);
      const doc = res.json() as Doc;
      expect(doc.paths["/broken/{id}"]?.["get"]?.summary).toBe("broken");
      const { problems } = checkCoverage(registeredRoutes(app), doc);
      expect(problems).toHaveLength(3);
      expect(problems[0]).toMatch(/^GET \/broken\/:id: its schema could not be converted: .*[Tt]ransform/);
      expect(problems.slice(1)).toEqual([
        "GET /old: alias of GET /nowhere, which is not in the document",
        "GET /quiet: schema.hide without a reason (use config.openapi.hidden or aliasOf)",
      ]);
      expect(doc.paths["/fine"]?.["get"]?.["x-leasehold-aliases"]).toEqual(["/fine/again"]);
      expect(logged.join("\n")).toContain("OpenAPI: a route's schema could not be converted");
    } finally {
      await app.close();
    }
  });
});
