import { describe, expect, it } from "vitest";
import type { PostgresProvider } from "../../src/providers/postgresql.js";
import { createProviderRegistry } from "../../src/providers/registry.js";

describe("provider registry", () => {
  it("serves the built-in providers by id and rejects unknown ids", async () => {
    const r = createProviderRegistry();
    expect(r.ids()).toEqual(["postgresql", "aws", "mysql", "redis"]);
    expect(r.get("postgresql").capabilities).toEqual({ renewableUpstream: true, revocationRequired: true });
    expect(r.get("aws").capabilities).toEqual({ renewableUpstream: false, revocationRequired: true });
    expect(typeof r.get("postgresql").renew).toBe("function");
    for (const id of ["mysql", "redis"]) {
      expect(r.get(id).capabilities).toEqual({ renewableUpstream: false, revocationRequired: true });
      expect(r.get(id).renew).toBeUndefined();
    }
    expect(r.get("aws").renew).toBeUndefined();
    expect(r.has("mongodb")).toBe(false);
    expect(() => r.get("mongodb")).toThrow("Unknown dynamic-secret provider: mongodb");
    await r.closeAll();
  });

  it("closeAll ends the pools a provider opened", async () => {
    const r = createProviderRegistry();
    const pg = r.get("postgresql") as PostgresProvider;
    const config = pg.configSchema.parse({
      connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:5432/postgres",
      username: "postgres",
      password: "unused-with-trust",
      creation_statements: `CREATE ROLE "{{name}}"`,
    });
    await pg.testConnection(config);
    const pool = pg.poolFor(config);
    await r.closeAll();
    expect(pool.ended).toBe(true);
  });
});
