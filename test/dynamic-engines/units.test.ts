import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isUnreachable } from "../../src/engines/creds.js";
import { formatDuration, parseDuration } from "../../src/engines/durations.js";
import { leaseIdOf } from "../../src/engines/leases.js";
import { parseRoleSettings, providerConfig } from "../../src/engines/plugins.js";
import { createRootVault } from "../../src/engines/root.js";
import { boundsOf } from "../../src/engines/sources.js";
import type { ServerKeys } from "../../src/keys/server-keys.js";
import { scramMatches, scramVerifier } from "../../src/providers/postgresql-scram.js";
import { ProviderError } from "../../src/providers/provider.js";
import type { SecretReader } from "../../src/secrets/reader.js";
import { parseSecretLocation } from "../../src/secrets/reader.js";

describe("engine units", () => {
  it("durations: the guide's forms in, one exact unit out", () => {
    expect(["30m", "1h", "24h", "90d", "1h30m", "45s", "3600", 3600, " 2H "].map(parseDuration)).toEqual([1800, 3600, 86_400, 7_776_000, 5400, 45, 3600, 3600, 7200]);
    expect(["", "1x", "h", "1.5h", "-1h", 1.5, null, {}].map(parseDuration)).toEqual([null, null, null, null, null, null, null, null]);
    expect([1800, 3600, 5400, 86_400, 7_776_000, 61, 604_800].map(formatDuration)).toEqual(["30m", "1h", "90m", "24h", "90d", "61s", "7d"]);
  });

  it("secret locations: app/env/path/KEY and ${app::env./path/KEY}", () => {
    expect(parseSecretLocation("infra/postgres/support/root")).toEqual({ app: "infra", env: "postgres", path: "/support", key: "root" });
    expect(parseSecretLocation("infra/postgres/ROOT")).toEqual({ app: "infra", env: "postgres", path: "/", key: "ROOT" });
    expect(parseSecretLocation("${infra::postgres./support/root}")).toEqual({ app: "infra", env: "postgres", path: "/support", key: "root" });
    expect(parseSecretLocation("infra::postgres.PG_ROOT")).toEqual({ app: "infra", env: "postgres", path: "/", key: "PG_ROOT" });
    for (const bad of ["root", "a/b", "/a/b/c", "a//b/c", "${KEY}", "${env.KEY}", "a/b/${c}"]) expect(parseSecretLocation(bad), bad).toBeNull();
  });

  it("lease ids: lease_<uuid> or the bare uuid", () => {
    const id = "3f2b8c1e-7d4a-4b9e-9c2d-1a2b3c4d5e6f";
    expect([`lease_${id}`, id, `lease_${id.toUpperCase()}`].map(leaseIdOf)).toEqual([id, id, id]);
    expect(["lease_", "lease_x", `lease_db_${id}`, ""].map(leaseIdOf)).toEqual([null, null, null, null]);
  });

  it("TTL bounds: the role's within the engine's", () => {
    expect(boundsOf({ defaultTtl: 3600, maxTtl: 86_400 }, { defaultTtl: null, maxTtl: 28_800 })).toEqual({ defaultTtl: 3600, maxTtl: 28_800 });
    expect(boundsOf({ defaultTtl: 3600, maxTtl: 86_400 }, { defaultTtl: 600, maxTtl: null })).toEqual({ defaultTtl: 600, maxTtl: 86_400 });
    // The engine's max lowered below the role's: the engine wins; so does a role default above it.
    expect(boundsOf({ defaultTtl: 3600, maxTtl: 1800 }, { defaultTtl: 7200, maxTtl: 28_800 })).toEqual({ defaultTtl: 1800, maxTtl: 1800 });
  });

  it("provider configs: engine connection and root plus the role's settings", () => {
    const db = providerConfig("database", { connection_url: "postgresql://{{username}}:{{password}}@h/db" }, { username: "root", password: "pw" }, {
      creation_statements: ["CREATE ROLE x"],
      revocation_statements: undefined,
    });
    expect(db).toEqual({ creation_statements: ["CREATE ROLE x"], connection_url: "postgresql://{{username}}:{{password}}@h/db", username: "root", password: "pw" });
    const aws = providerConfig("aws", { region: "us-east-1" }, { access_key_id: "AKIA", secret_access_key: "s" }, { credential_type: "iam_user", groups: ["g"] });
    expect(aws).toEqual({ groups: ["g"], region: "us-east-1", access_key_id: "AKIA", secret_access_key: "s" });
  });

  it("role settings: scram_iterations only for PostgreSQL roles, 1 to 100000", () => {
    const role = { creation_statements: [`CREATE ROLE "{{name}}"`] };
    expect(parseRoleSettings("postgresql", { ...role, scram_iterations: 1000 })).toEqual({ ...role, scram_iterations: 1000 });
    for (const bad of [0, 100_001, 2.5, "1000"]) {
      expect(() => parseRoleSettings("postgresql", { ...role, scram_iterations: bad })).toThrow(/Invalid role.scram_iterations/);
    }
    for (const plugin of ["mysql", "redis"]) {
      expect(() => parseRoleSettings(plugin, { ...role, scram_iterations: 1000 })).toThrow(/unknown field 'scram_iterations'/);
    }
  });

  it("root credentials are sealed with associated data binding engine row and field", async () => {
    const key = new Uint8Array(randomBytes(32));
    const vault = createRootVault({ keys: { get: async () => key } as unknown as ServerKeys, reader: {} as SecretReader });
    const blob = await vault.seal("engine-a", "root_credentials", { username: "root", password: "pw" });
    expect(await vault.open("engine-a", "root_credentials", blob)).toEqual({ username: "root", password: "pw" });
    await expect(vault.open("engine-b", "root_credentials", blob)).rejects.toThrow();
    await expect(vault.open("engine-a", "root_pending", blob)).rejects.toThrow();
    expect(Buffer.from(blob).toString("latin1")).not.toContain("pw\"");
  });

  it("unreachable: connection and login failures, not statement errors", () => {
    const e = (code?: string, message = "x") => new ProviderError(message, false, code);
    expect([e("ECONNREFUSED"), e("28P01"), e("08006"), e("3D000"), e(undefined, "Connection terminated unexpectedly"), e("InvalidClientTokenId")].map(isUnreachable)).toEqual([true, true, true, true, true, true]);
    expect([e("42P01"), e("42501"), e("AccessDenied"), new Error("ECONNREFUSED"), undefined].map(isUnreachable)).toEqual([false, false, false, false, false]);
  });

  it("SCRAM verifiers match the password they were made from, and only it", () => {
    const v = scramVerifier("Correct-Horse-Battery-Staple_1");
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(scramMatches(v, "Correct-Horse-Battery-Staple_1")).toBe(true);
    expect(scramMatches(v, "Correct-Horse-Battery-Staple_2")).toBe(false);
    expect(scramMatches("md5abc", "x")).toBe(false);
    expect(() => scramVerifier("päss")).toThrow(/printable ASCII/);
  });
});
