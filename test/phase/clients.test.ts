import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phaseFixture, type PhaseFixture } from "./fixtures.js";

/**
 * Requests replayed byte for byte from Phase's API docs (shared/seeds/phase-api-secrets.txt) and
 * from the clients in notes section 8 (Terraform provider v0.2.0, the phase-to-env action).
 */
let f: PhaseFixture;
beforeAll(async () => {
  f = await phaseFixture();
});
afterAll(async () => f?.close());

describe("the docs' curl requests", () => {
  let createdId: string;

  it("POST (curl --location ... --data '{...}') with a PAT", async () => {
    const body = `{
    "secrets": [
        {
            "key": "DB_NAME",
            "value": "postgres",
            "comment": "primary db name",
            "tags": ["db"],
            "path": "/backend",
            "override": {
                "value": "postgres-dev",
                "isActive": true
            }
        }
    ]
}`;
    const res = await f.t.http
      .post(`/v1/secrets/?app_id=${f.appId}&env=development`)
      .set("Authorization", f.user.auth)
      .set("Content-Type", "application/json")
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({
      key: "DB_NAME",
      value: "postgres",
      type: "secret",
      comment: "primary db name",
      tags: ["db"],
      path: "/backend",
      override: { value: "postgres-dev", isActive: true },
      version: 1,
      environment: f.envs["Development"],
    });
    createdId = res.body[0].id;
  });

  it("GET (curl -G -d app_id -d env -d path -d key -d tags)", async () => {
    await f.t.http.post(f.url()).set("Authorization", f.sa.auth).send({
      secrets: [{ key: "DEBUG", value: "False", comment: "Debug mode for the backend app", tags: ["aws"], path: "/backend" }],
    });
    const res = await f.t.http
      .get(`/v1/secrets/?app_id=${f.appId}&env=development&path=/backend&key=DEBUG&tags=aws,postgres`)
      .set("Authorization", f.sa.auth);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ key: "DEBUG", value: "False", type: "secret", comment: "Debug mode for the backend app", tags: ["aws"], override: null, path: "/backend", version: 1 });
  });

  it("PUT (curl --request PUT ... --data '{...}')", async () => {
    const body = `{
    "secrets": [
        {
            "id": "${createdId}",
            "key": "DB_NAME_POSTGRES",
            "value": "postgres-primary",
            "comment": "primary db name",
            "path": "/backend/db",
            "override": {
                "value": "postgres-dev",
                "isActive": true
            }
        }
    ]
}`;
    const res = await f.t.http
      .put(`/v1/secrets/?app_id=${f.appId}&env=development`)
      .set("Authorization", f.user.auth)
      .set("Content-Type", "application/json")
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body[0]).toMatchObject({
      id: createdId,
      key: "DB_NAME_POSTGRES",
      value: "postgres-primary",
      comment: "primary db name",
      tags: ["db"],
      path: "/backend/db",
      override: { value: "postgres-dev", isActive: true },
      version: 2,
    });
  });

  it("DELETE (curl --request DELETE ... --data '{\"secrets\": [...]}')", async () => {
    const res = await f.t.http
      .delete(`/v1/secrets/?app_id=${f.appId}&env=development`)
      .set("Authorization", f.user.auth)
      .set("Content-Type", "application/json")
      .send(`{
    "secrets": ["${createdId}"]
}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"message":"Deleted 1 secret"}');
  });
});

describe("Terraform provider v0.2.0 (self-hosted: host + /service/public)", () => {
  const base = () => `/service/public/v1/secrets/?app_id=${f.appId}&env=Development`;
  const tf = <T extends { set(k: string, v: string): T }>(req: T) =>
    req
      .set("Content-Type", "application/json")
      .set("Authorization", f.sa.auth)
      .set("User-Agent", "terraform-provider-phase/0.2.0 (linux amd64; runner@ci)");

  it("create → 409 on apply over an existing key → read by key → update → read → delete", async () => {
    // Create (json.Marshal of its Secret struct: id/comment/path/tags omitted when empty).
    const create = () => tf(f.t.http.post(base())).send(JSON.stringify({ secrets: [{ key: "TF_KEY", value: "v1", comment: "managed", path: "/tf/", tags: ["terraform"] }] }));
    const first = await create();
    expect(first.status).toBe(200);
    const id = first.body[0].id;
    expect(first.body[0].path).toBe("/tf");

    // A second apply finds the key taken: the provider matches "409 Conflict" in the status line.
    const again = await create();
    expect(again.status).toBe(409);
    expect((again as unknown as { res: { statusMessage: string } }).res.statusMessage).toBe("Conflict");
    expect(again.body).toEqual({ error: "Duplicate secret found" });

    // ReadSecret: GET with Content-Type: application/json and no body, by key.
    const read = await tf(f.t.http.get(`${base()}&key=TF_KEY`));
    expect(read.status).toBe(200);
    expect(read.body[0].id).toBe(id);

    // UpdateSecret with the id found, sending every field again.
    const update = await tf(f.t.http.put(base())).send(
      JSON.stringify({ secrets: [{ id, key: "TF_KEY", value: "v2", comment: "managed", path: "/tf", tags: ["terraform"] }] }),
    );
    expect(update.status).toBe(200);
    expect(update.body[0]).toMatchObject({ id, value: "v2", version: 2, path: "/tf", tags: ["terraform"] });

    // resourceSecretRead reads these fields of [0].
    const after = await tf(f.t.http.get(`${base()}&key=TF_KEY&tags=terraform`));
    const s = after.body[0];
    for (const field of ["id", "key", "value", "comment", "path", "tags", "version", "createdAt", "updatedAt", "override"]) expect(s).toHaveProperty(field);
    expect(s).toMatchObject({ key: "TF_KEY", value: "v2", comment: "managed", path: "/tf", version: 2, override: null });

    // Import / data source: list a path, then filter client-side on the normalised path.
    const listed = await tf(f.t.http.get(`${base()}&path=/tf/`));
    expect(listed.body.filter((x: { path: string }) => x.path === "/tf").map((x: { key: string }) => x.key)).toEqual(["TF_KEY"]);

    const del = await tf(f.t.http.delete(base())).send(JSON.stringify({ secrets: [id] }));
    expect(del.status).toBe(200);
    const gone = await tf(f.t.http.get(`${base()}&key=TF_KEY`));
    expect(gone.status).toBe(200);
    expect(gone.body).toEqual([]);
  });
});

describe("phase-to-env GitHub action", () => {
  it("GET {host}/service/public/v1/secrets/ with params, reads key and value", async () => {
    await f.t.http.post(f.url()).set("Authorization", f.sa.auth).send({ secrets: [{ key: "GH_ONE", value: "1" }] });
    const res = await f.t.http
      .get(`/service/public/v1/secrets/`)
      .query({ app_id: f.appId, env: "Development" })
      .set("Authorization", f.sa.auth)
      .set("Content-Type", "application/json");
    expect(res.status).toBe(200);
    expect(res.body.map((s: { key: string; value: string }) => [s.key, s.value])).toContainEqual(["GH_ONE", "1"]);
  });
});
