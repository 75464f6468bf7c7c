import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phaseFixture, type PhaseFixture } from "./fixtures.js";

let f: PhaseFixture;
beforeAll(async () => {
  f = await phaseFixture();
});
afterAll(async () => f?.close());

const as = (auth: string) => ({
  post: (secrets: unknown[]) => f.t.http.post(f.url()).set("Authorization", auth).send({ secrets }),
  put: (secrets: unknown[]) => f.t.http.put(f.url()).set("Authorization", auth).send({ secrets }),
  get: (extra: Record<string, string> = {}) => f.t.http.get(f.url("Development", extra)).set("Authorization", auth),
});
const overrides = () =>
  f.t.db.query<{ id: string; secret_id: string; user_id: string; is_active: boolean; value_cipher: Buffer }>(
    `SELECT id, secret_id, user_id, is_active, value_cipher FROM personal_secrets ORDER BY created_at`,
  );

describe("personal overrides (user tokens only)", () => {
  let secretId: string;
  let overrideId: string;

  it("POST with a user token creates an active override, whatever isActive says", async () => {
    f.t.clock.set(Date.parse("2024-04-11T15:03:02.029Z"));
    const res = await as(f.user.auth).post([{ key: "DB_NAME", value: "postgres", override: { value: "postgres-dev", isActive: false } }]);
    expect(res.status).toBe(200);
    const o = res.body[0].override;
    expect(Object.keys(o)).toEqual(["id", "value", "isActive", "createdAt", "updatedAt"]);
    expect(o).toEqual({ id: expect.any(String), value: "postgres-dev", isActive: true, createdAt: "2024-04-11T15:03:02.029000Z", updatedAt: "2024-04-11T15:03:02.029000Z" });
    expect(res.body[0].value).toBe("postgres");
    secretId = res.body[0].id;
    overrideId = o.id;
    const rows = await overrides();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: overrideId, secret_id: secretId, user_id: f.user.id, is_active: true });
    expect(Buffer.from(rows[0]!.value_cipher).includes("postgres-dev")).toBe(false);
  });

  it("only its owner sees it: other users and service accounts get override null", async () => {
    expect((await as(f.user.auth).get()).body[0].override).toMatchObject({ id: overrideId, value: "postgres-dev", isActive: true });
    expect((await as(f.sa.auth).get()).body[0].override).toBeNull();
    expect((await as(f.owner.auth).get()).body[0].override).toBeNull();
    // The API never swaps the override into value.
    expect((await as(f.user.auth).get()).body[0].value).toBe("postgres");
  });

  it("PUT upserts value and isActive on the same override row", async () => {
    f.t.clock.set(Date.parse("2024-04-11T15:05:26.032Z"));
    const res = await as(f.user.auth).put([{ id: secretId, override: { value: "local", isActive: false } }]);
    expect(res.status).toBe(200);
    expect(res.body[0].override).toEqual({ id: overrideId, value: "local", isActive: false, createdAt: "2024-04-11T15:03:02.029000Z", updatedAt: "2024-04-11T15:05:26.032000Z" });
    expect(res.body[0].version).toBe(2);
    const rows = await overrides();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: overrideId, is_active: false });
    expect((await as(f.user.auth).get()).body[0].override).toMatchObject({ value: "local", isActive: false });
  });

  it("PUT without isActive keeps the current flag", async () => {
    const res = await as(f.user.auth).put([{ id: secretId, override: { value: "again" } }]);
    expect(res.body[0].override).toMatchObject({ id: overrideId, value: "again", isActive: false });
  });

  it("PUT creates an override for a user who had none (another user's stays apart)", async () => {
    const res = await as(f.owner.auth).put([{ id: secretId, override: { value: "owner's", isActive: true } }]);
    expect(res.body[0].override).toMatchObject({ value: "owner's", isActive: true });
    expect(res.body[0].override.id).not.toBe(overrideId);
    expect(await overrides()).toHaveLength(2);
    expect((await as(f.user.auth).get()).body[0].override).toMatchObject({ id: overrideId, value: "again" });
  });

  it("service-account overrides are silently ignored (POST and PUT)", async () => {
    const created = await as(f.sa.auth).post([{ key: "SA_KEY", value: "v", override: { value: "sa", isActive: true } }]);
    expect(created.status).toBe(200);
    expect(created.body[0].override).toBeNull();
    const updated = await as(f.sa.auth).put([{ id: created.body[0].id, override: { value: "sa2", isActive: true } }]);
    expect(updated.status).toBe(200);
    expect(updated.body[0]).toMatchObject({ override: null, version: 2 });
    expect(await overrides()).toHaveLength(2);
  });

  it("override values have their references resolved", async () => {
    await as(f.user.auth).put([{ id: secretId, override: { value: "ref:${SA_KEY}", isActive: true } }]);
    const [s] = (await as(f.user.auth).get({ key: "DB_NAME" })).body;
    expect(s.override.value).toBe("ref:v");
  });
});
