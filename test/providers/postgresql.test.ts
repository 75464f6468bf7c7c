import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPostgresProvider, pgTimestamp, type PostgresConfig } from "../../src/providers/postgresql.js";
import { hasPasswordClause, withVerifierInPasswordClauses } from "../../src/providers/postgresql-scram.js";
import { ProviderError, type CreateContext } from "../../src/providers/provider.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { connectAs, passwordCheckingHost, scramVerifies } from "./pg-helpers.js";

const ROOT_PASSWORD = "root-Pw-that-must-never-leak";
const EXPIRES = new Date("2030-01-01T10:00:00.250Z");

describe("PostgreSQL provider (real PostgreSQL)", () => {
  let db: TestDatabase;
  const provider = createPostgresProvider();
  const created = new Set<string>();

  function config(extra: Record<string, unknown> = {}): PostgresConfig {
    return provider.configSchema.parse({
      connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${db.name}`,
      username: "postgres",
      password: ROOT_PASSWORD,
      creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
      ...extra,
    });
  }
  const ctx = (expiresAt = EXPIRES): CreateContext => ({ leaseId: "lease-1", roleName: "Reader", expiresAt, ttlSeconds: 3600 });

  async function issue(cfg: PostgresConfig) {
    const planned = provider.plan(cfg, ctx());
    created.add(planned.identity);
    const cred = await provider.create(cfg, planned, ctx());
    return { planned, cred, name: planned.identity, password: planned.secrets.password as string };
  }
  const role = async (name: string) =>
    (
      await db.query<{ rolcanlogin: boolean; rolvaliduntil: Date | null; rolpassword: string | null }>(
        "SELECT rolcanlogin, rolvaliduntil, rolpassword FROM pg_authid WHERE rolname = $1",
        [name],
      )
    )[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.query("CREATE TABLE reports (id int primary key, body text); INSERT INTO reports VALUES (1, 'q3')");
  });
  afterAll(async () => {
    await provider.close();
    for (const name of created) {
      await db.query(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${name}') THEN
        EXECUTE 'DROP OWNED BY "${name}"'; EXECUTE 'DROP ROLE "${name}"'; END IF; END $$`);
    }
    await db?.drop();
  });

  it("plans v_<role>_<random16> names and URL-safe passwords, with no side effect", async () => {
    const p = provider.plan(config(), { leaseId: "l", roleName: "Billing Read-Only!" });
    expect(p.identity).toMatch(/^v_billing_read_only_[a-z0-9]{16}$/);
    expect(p.secrets.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await role(p.identity)).toBeUndefined();
  });

  it("creates a LOGIN role whose VALID UNTIL is expiry + 5 s and whose SCRAM verifier matches the password", async () => {
    const { cred, name, password } = await issue(config());
    expect(cred.outputs).toEqual({
      username: name,
      password,
      connection_url: `postgresql://${name}:${password}@127.0.0.1:5432/${db.name}`,
    });
    expect(cred.revocation).toEqual({ identity: name });
    const r = await role(name);
    expect(r?.rolcanlogin).toBe(true);
    // 10:00:00.250 rounds up to :01, plus the 5 s buffer.
    expect(r?.rolvaliduntil?.toISOString()).toBe("2030-01-01T10:00:06.000Z");
    expect(scramVerifies(r?.rolpassword ?? "", password)).toBe(true);
    expect(scramVerifies(r?.rolpassword ?? "", `${password}x`)).toBe(false);
  });

  it("sends the server a SCRAM verifier, never the clear password (statement logs cannot capture it)", async () => {
    const sent: string[] = [];
    const original = pg.Client.prototype.query;
    const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const q = args[0];
      sent.push(typeof q === "string" ? q : String((q as { text?: unknown })?.text ?? ""));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original);
    try {
      const { name, password } = await issue(config({ creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN ENCRYPTED PASSWORD '{{ password }}';` }));
      // The scripts go with BEGIN and the expiry check as one multi-statement query.
      const create = sent.flatMap((q) => q.split("\n;\n")).filter((q) => q.startsWith("CREATE ROLE"));
      expect(create).toHaveLength(1);
      expect(create[0]).toMatch(/ENCRYPTED PASSWORD 'SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+';$/);
      expect(sent.some((q) => q.includes(password))).toBe(false);
      expect(scramVerifies((await role(name))?.rolpassword ?? "", password)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it("scram_iterations sets the verifier's PBKDF2 count; absent, the target's own count (PostgreSQL 15: 4096), read once", async () => {
    const low = await issue(config({ scram_iterations: 64 }));
    const stored = (await role(low.name))?.rolpassword ?? "";
    expect(stored).toMatch(/^SCRAM-SHA-256\$64:/);
    expect(scramVerifies(stored, low.password)).toBe(true);

    // A provider of its own (its own pools): its first creation reads the setting, the next ones do not.
    const own = createPostgresProvider();
    const sent: string[] = [];
    const original = pg.Client.prototype.query;
    const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      sent.push(String(args[0]));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original);
    try {
      for (let i = 0; i < 3; i++) {
        const planned = own.plan(config(), ctx());
        created.add(planned.identity);
        await own.create(config(), planned, ctx());
        const verifier = (await role(planned.identity))?.rolpassword ?? "";
        expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:/);
        expect(scramVerifies(verifier, planned.secrets.password as string)).toBe(true);
      }
      expect(sent.filter((q) => q.includes("current_setting('scram_iterations', true)"))).toHaveLength(1);
    } finally {
      spy.mockRestore();
      await own.close();
    }
    for (const bad of [0, 1.5, 100_001, "64"]) expect(provider.configSchema.safeParse({ ...config(), scram_iterations: bad }).success).toBe(false);
  });

  it("the new role can log in (its own session, not SET ROLE) and run SELECT 1", async () => {
    const { name, password } = await issue(config());
    const c = await connectAs(name, password, db.name);
    try {
      const { rows } = await c.query("SELECT 1 AS one, current_user AS who, session_user AS sess");
      expect(rows[0]).toEqual({ one: 1, who: name, sess: name });
    } finally {
      await c.end();
    }
  });

  it("password logins are checked where pg_hba asks for it (skipped when every path is trust)", async (t) => {
    const host = await passwordCheckingHost((sql) => db.query(sql));
    if (!host) return t.skip(); // this machine: local + 127.0.0.1 trust, nothing else listed
    const { name, password } = await issue(config());
    await expect(connectAs(name, "wrong-password-0000", db.name, host)).rejects.toThrow(/password authentication failed/);
    const c = await connectAs(name, password, db.name, host);
    await c.end();
  });

  it("runs a multi-statement script with a DO $$ block, grants on a table, and adds VALID UNTIL itself", async () => {
    const script = `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}';
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'reports') THEN RAISE EXCEPTION 'no reports'; END IF;
        EXECUTE format('GRANT SELECT ON public.reports TO %I', '{{name}}');
      END $$;
      COMMENT ON ROLE "{{name}}" IS 'ttl={{ttl_seconds}}';`;
    const { name, password } = await issue(config({ creation_statements: script }));
    expect((await role(name))?.rolvaliduntil?.toISOString()).toBe("2030-01-01T10:00:06.000Z");
    const [comment] = await db.query("SELECT shobj_description(oid, 'pg_authid') AS c FROM pg_roles WHERE rolname = $1", [name]);
    expect(comment).toEqual({ c: "ttl=3600" });
    const c = await connectAs(name, password, db.name);
    try {
      expect((await c.query("SELECT body FROM reports")).rows).toEqual([{ body: "q3" }]);
      await expect(c.query("INSERT INTO reports VALUES (2, 'x')")).rejects.toMatchObject({ code: "42501" });
    } finally {
      await c.end();
    }
  });

  it("caps a VALID UNTIL the statements set later than expiry + buffer ('infinity')", async () => {
    const { name } = await issue(config({ creation_statements: `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL 'infinity'` }));
    expect((await role(name))?.rolvaliduntil?.toISOString()).toBe("2030-01-01T10:00:06.000Z");
  });

  it("a failing second statement rolls everything back and is a permanent error", async () => {
    const cfg = config({
      creation_statements: [`CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'`, `GRANT SELECT ON no_such_table TO "{{name}}"`],
    });
    const planned = provider.plan(cfg, ctx());
    const err = await provider.create(cfg, planned, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ retryable: false, code: "42P01" });
    expect(provider.classifyError(err)).toBe("permanent");
    expect(await role(planned.identity)).toBeUndefined();
  });

  it("a script ending in a line comment, a syntax error, and the pooled connection after each failure", async () => {
    // The scripts, BEGIN and the expiry check travel as one query: a trailing comment must not swallow what follows.
    const commented = await issue(config({ creation_statements: [`CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' -- the reader`, `COMMENT ON ROLE "{{name}}" IS 'x' -- done`] }));
    expect((await role(commented.name))?.rolvaliduntil?.toISOString()).toBe("2030-01-01T10:00:06.000Z");
    // A syntax error fails the whole query before BEGIN runs; a runtime error leaves an aborted transaction to roll back.
    for (const [grant, code] of [["GRANT SELEC ON reports", "42601"], ["GRANT SELECT ON no_such_table", "42P01"]] as const) {
      const broken = config({ creation_statements: [`CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'`, `${grant} TO "{{name}}"`] });
      for (let i = 0; i < 3; i++) {
        const planned = provider.plan(broken, ctx());
        await expect(provider.create(broken, planned, ctx())).rejects.toMatchObject({ code, retryable: false });
        expect(await role(planned.identity)).toBeUndefined();
      }
    }
    // Every pooled connection is back out of its transaction: creations keep working.
    for (let i = 0; i < 4; i++) {
      const again = await issue(config());
      expect((await role(again.name))?.rolcanlogin).toBe(true);
    }
  });

  it("scrubs the generated password from upstream error messages", async () => {
    const cfg = config({ creation_statements: [`CREATE ROLE "{{name}}" LOGIN`, `SELECT '{{password}}'::int`] });
    const planned = provider.plan(cfg, ctx());
    const err = (await provider.create(cfg, planned, ctx()).catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toBe('PostgreSQL role creation failed: invalid input syntax for type integer: "[REDACTED]" (22P02)');
    expect(err.message).not.toContain(planned.secrets.password);
    expect(await role(planned.identity)).toBeUndefined();
  });

  it("revoke drops the role and kills its open session; a new login then fails", async () => {
    const { name, password } = await issue(config());
    const session = await connectAs(name, password, db.name);
    const sessions = "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1";
    expect(await db.query(sessions, [name])).toEqual([{ n: 1 }]);
    await provider.revoke(config(), { identity: name });
    expect(await role(name)).toBeUndefined();
    expect(await db.query(sessions, [name])).toEqual([{ n: 0 }]);
    await expect(session.query("SELECT 1")).rejects.toThrow(/connection error|terminat/);
    await session.end().catch(() => undefined);
    await expect(connectAs(name, password, db.name)).rejects.toMatchObject({ code: "28000" });
  });

  it("revoke is idempotent: twice, or for a role that never existed", async () => {
    const { name } = await issue(config());
    await provider.revoke(config(), { identity: name });
    await expect(provider.revoke(config(), { identity: name })).resolves.toBeUndefined();
    await expect(provider.revoke(config(), { identity: "v_reader_neverexisted00000" })).resolves.toBeUndefined();
  });

  it("default revocation reassigns what the role owns to root and removes its grants", async () => {
    const { name, password } = await issue(
      config({
        creation_statements: `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}';
          GRANT CREATE, USAGE ON SCHEMA public TO "{{name}}"; GRANT SELECT ON reports TO "{{name}}";`,
      }),
    );
    const c = await connectAs(name, password, db.name);
    await c.query("CREATE TABLE made_by_lease (x int); CREATE SEQUENCE lease_seq");
    await c.end();
    expect(await db.query("SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_lease'")).toEqual([{ tableowner: name }]);
    const [{ oid } = { oid: 0 }] = await db.query<{ oid: number }>("SELECT oid FROM pg_roles WHERE rolname = $1", [name]);
    const deps = "SELECT count(*)::int AS n FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass AND refobjid = $1";
    expect((await db.query(deps, [oid]))[0]?.n).toBeGreaterThanOrEqual(4); // 2 owned + 2 grants
    await provider.revoke(config(), { identity: name });
    expect(await role(name)).toBeUndefined();
    expect(await db.query(deps, [oid])).toEqual([{ n: 0 }]);
    expect(await db.query("SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_lease'")).toEqual([
      { tableowner: "postgres" },
    ]);
  });

  it("grants in another database make DROP ROLE fail (permanent), but the role can no longer log in", async () => {
    const other = await createTestDatabase();
    try {
      const { name, password } = await issue(config());
      await other.query(`GRANT CREATE ON SCHEMA public TO "${name}"`);
      const err = await provider.revoke(config(), { identity: name }).catch((e: unknown) => e);
      expect(err).toMatchObject({ retryable: false, code: "2BP01" });
      expect((err as Error).message).toMatch(/^PostgreSQL role revocation failed: role ".+" cannot be dropped/);
      expect((await role(name))?.rolcanlogin).toBe(false);
      await expect(connectAs(name, password, db.name)).rejects.toMatchObject({ code: "28000" });
      await other.query(`REVOKE CREATE ON SCHEMA public FROM "${name}"`);
      await provider.revoke(config(), { identity: name });
      expect(await role(name)).toBeUndefined();
    } finally {
      await other.drop();
    }
  });

  it("works with a CREATEROLE root that is not superuser (revoke makes it a member first)", async () => {
    const rootName = `lh_root_${Date.now().toString(36)}`;
    created.add(rootName);
    await db.query(`CREATE ROLE ${rootName} LOGIN CREATEROLE; GRANT CREATE ON DATABASE "${db.name}" TO ${rootName}`);
    const p = createPostgresProvider();
    try {
      const cfg = config({
        username: rootName,
        creation_statements: `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}';
          GRANT USAGE, CREATE ON SCHEMA lease_area TO "{{name}}"; GRANT SELECT ON lease_area.root_table TO "{{name}}";`,
      });
      await p.testConnection(cfg);
      const rootSession = await connectAs(rootName, "", db.name);
      await rootSession.query("CREATE SCHEMA lease_area; CREATE TABLE lease_area.root_table (x int)");
      await rootSession.end();
      const planned = p.plan(cfg, ctx());
      created.add(planned.identity);
      await p.create(cfg, planned, ctx());
      const session = await connectAs(planned.identity, planned.secrets.password as string, db.name);
      await session.query("CREATE TABLE lease_area.lease_owned (x int); SELECT * FROM lease_area.root_table");
      await p.revoke(cfg, { identity: planned.identity });
      expect(await role(planned.identity)).toBeUndefined();
      await expect(session.query("SELECT 1")).rejects.toThrow();
      await session.end().catch(() => undefined);
      expect(await db.query("SELECT tableowner FROM pg_tables WHERE tablename = 'lease_owned'")).toEqual([{ tableowner: rootName }]);
      await db.query("DROP SCHEMA lease_area CASCADE");
    } finally {
      await p.close();
    }
  });

  it("testConnection refuses a root role without CREATEROLE (permanent)", async () => {
    const weak = `lh_weak_${Date.now().toString(36)}`;
    created.add(weak);
    await db.query(`CREATE ROLE ${weak} LOGIN`);
    const p = createPostgresProvider();
    try {
      await expect(p.testConnection(config({ username: weak }))).rejects.toMatchObject({
        retryable: false,
        message: "The root role needs CREATEROLE (or superuser) to manage roles.",
      });
    } finally {
      await p.close();
    }
  });

  it("custom revocation statements run in one transaction; the lease keeps a snapshot of them", async () => {
    await db.query("CREATE TABLE revoked_log (who text)");
    const revocation_statements = [`INSERT INTO revoked_log VALUES ('{{name}}')`, `DROP ROLE "{{name}}"`];
    const { name, cred } = await issue(config({ revocation_statements }));
    expect(cred.revocation).toEqual({ identity: name, revocation_statements });
    // The definition changed meanwhile (no custom statements): the snapshot still applies.
    await provider.revoke(config(), cred.revocation);
    expect(await role(name)).toBeUndefined();
    expect(await db.query("SELECT who FROM revoked_log")).toEqual([{ who: name }]);
  });

  it("renew moves VALID UNTIL to the new expiry + 5 s; renewing a dropped role is permanent", async () => {
    const { name } = await issue(config());
    await provider.renew?.(config(), { identity: name }, new Date("2030-01-02T00:00:00Z"));
    expect((await role(name))?.rolvaliduntil?.toISOString()).toBe("2030-01-02T00:00:05.000Z");
    await provider.revoke(config(), { identity: name });
    await expect(provider.renew?.(config(), { identity: name }, EXPIRES)).rejects.toMatchObject({
      retryable: false,
      code: "not_found",
    });
  });

  it("keeps one small pool per root configuration and ends them on close()", async () => {
    const p = createPostgresProvider();
    const a = p.poolFor(config());
    expect(p.poolFor(config())).toBe(a);
    expect(p.poolFor(config({ creation_statements: `CREATE ROLE "{{name}}"` }))).toBe(a);
    expect(p.poolFor(config({ password: "other" }))).not.toBe(a);
    expect(a.options.max).toBe(3);
    await p.testConnection(config());
    await p.close();
    expect(a.ended).toBe(true);
    expect(p.poolFor(config())).not.toBe(a);
    await p.close();
  });

  it("testConnection logs in afresh every time, never through a pooled connection that logged in earlier", async () => {
    const p = createPostgresProvider({ poolMax: 1 });
    const plain = `lh_plain_${Date.now().toString(36)}`;
    created.add(plain);
    await db.query(`CREATE ROLE ${plain} NOLOGIN`);
    try {
      const cfg = config();
      // The pool's one connection is logged in, but now acts as a role that could not manage roles:
      // a test that borrowed it would fail, as a stale login would wrongly pass after a password change.
      const pooled = await p.poolFor(cfg).connect();
      await pooled.query(`SET ROLE ${plain}`);
      pooled.release();
      await expect(p.testConnection(cfg)).resolves.toBeUndefined();
      expect(p.poolFor(cfg).totalCount).toBe(1);
      const sessions = await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'leasehold-provider' AND datname = $1`, [db.name]);
      expect(sessions).toHaveLength(1); // the pooled one; the test's own session is closed again
    } finally {
      await p.close();
    }
  });

  it("rotateRoot changes the root's password and ends the old password's pool; the new password gets its own", async () => {
    const rootName = `lh_rot_${Date.now().toString(36)}`;
    created.add(rootName);
    await db.query(`CREATE ROLE ${rootName} LOGIN CREATEROLE PASSWORD '${ROOT_PASSWORD}'`);
    const p = createPostgresProvider();
    try {
      const before = config({ username: rootName });
      const old = p.poolFor(before);
      await old.query("SELECT 1"); // one logged-in connection, idle in the pool
      expect({ total: old.totalCount, idle: old.idleCount, ended: old.ended }).toEqual({ total: 1, idle: 1, ended: false });
      await expect(p.rotateRoot!(before, "short")).rejects.toMatchObject({ code: "invalid_password" });
      expect(p.poolFor(before)).toBe(old); // nothing changed: the pool stays

      const next = "Rotated-root_pw-0123456789abcdef";
      await p.rotateRoot!(before, next);
      expect(scramVerifies((await role(rootName))!.rolpassword!, next)).toBe(true);
      expect({ total: old.totalCount, ended: old.ended }).toEqual({ total: 0, ended: true });
      const after = config({ username: rootName, password: next });
      await p.testConnection(after);
      await p.poolFor(after).query("SELECT 1");
      expect(p.poolFor(after)).not.toBe(old);
      expect(p.poolFor(after).ended).toBe(false);
    } finally {
      await p.close();
    }
  });

  it("testConnection: unknown database is permanent, a closed port is retryable", async () => {
    const p = createPostgresProvider();
    try {
      const bad = config({ connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:5432/lh_no_such_db" });
      await expect(p.testConnection(bad)).rejects.toMatchObject({ retryable: false, code: "3D000" });
      const closed = config({ connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:1/x" });
      const err = (await p.testConnection(closed).catch((e: unknown) => e)) as ProviderError;
      expect(err).toMatchObject({ retryable: true, code: "ECONNREFUSED" });
      expect(err.message).not.toContain(ROOT_PASSWORD);
    } finally {
      await p.close();
    }
  });
});

describe("PostgreSQL provider: config and classification", () => {
  const provider = createPostgresProvider();
  const base = {
    connection_url: "postgresql://{{username}}:{{password}}@db:5432/app",
    username: "root",
    password: "pw",
    creation_statements: `CREATE ROLE "{{name}}"`,
  };

  it("accepts a string or a list of statements and defaults the prefix", () => {
    const c = provider.configSchema.parse(base);
    expect(c.creation_statements).toEqual([`CREATE ROLE "{{name}}"`]);
    expect(c.username_prefix).toBe("v");
    expect(provider.secretFields).toEqual(["password"]);
  });

  it.each([
    [{ creation_statements: `CREATE ROLE "{{name}}" {{user}}` }, "unknown template variable {{user}}"],
    [{ creation_statements: "CREATE ROLE x" }, "must use {{name}}"],
    [{ revocation_statements: [`DROP ROLE "{{name}}" -- {{password}}`] }, "unknown template variable {{password}}"],
    [{ creation_statements: [] }, "at least one statement"],
    [{ connection_url: "mysql://{{username}}@db/app" }, "must start with postgresql://"],
    [{ connection_url: "postgresql://admin:hunter2@db/app" }, "must not contain a password"],
    [{ connection_url: "postgresql://{{username}}:{{password}}@db/app?password=hunter2" }, "must not contain a password"],
    [{ username_prefix: "V-1" }, "lower-case"],
  ])("rejects %j", (extra, message) => {
    const r = provider.configSchema.safeParse({ ...base, ...extra });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join(" | ")).toContain(message);
  });

  it.each([
    ["40001", "retryable"],
    ["40P01", "retryable"],
    ["55P03", "retryable"],
    ["57P01", "retryable"],
    ["08006", "retryable"],
    ["53300", "retryable"],
    ["42601", "permanent"],
    ["42501", "permanent"],
    ["28P01", "permanent"],
    ["ECONNREFUSED", "retryable"],
  ])("classifies %s as %s", (code, expected) => {
    expect(provider.classifyError(Object.assign(new Error("x"), { code }))).toBe(expected);
  });

  it("classifies GRANT's 'tuple concurrently updated' and pg's connect timeout as retryable", () => {
    expect(provider.classifyError(Object.assign(new Error("tuple concurrently updated"), { code: "XX000" }))).toBe("retryable");
    expect(provider.classifyError(new Error("timeout exceeded when trying to connect"))).toBe("retryable");
    expect(provider.classifyError(new ProviderError("x", false))).toBe("permanent");
  });

  it("puts the verifier in PASSWORD '{{password}}' clauses only; other {{password}} uses stay for the template", () => {
    const v = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";
    expect(withVerifierInPasswordClauses(`CREATE ROLE "{{name}}" LOGIN password '{{password}}'`, v)).toBe(`CREATE ROLE "{{name}}" LOGIN password '${v}'`);
    expect(withVerifierInPasswordClauses(`ALTER ROLE x ENCRYPTED  PASSWORD '{{ password }}'; SELECT '{{password}}'`, v)).toBe(
      `ALTER ROLE x ENCRYPTED  PASSWORD '${v}'; SELECT '{{password}}'`,
    );
    expect(withVerifierInPasswordClauses(`CREATE ROLE x PASSWORD $p${"$"}{{password}}$p$`, v)).toBe(`CREATE ROLE x PASSWORD $p${"$"}{{password}}$p$`);
    expect(hasPasswordClause([`GRANT x TO "{{name}}"`, `ALTER ROLE "{{name}}" encrypted password '{{password}}'`])).toBe(true);
    expect(hasPasswordClause([`CREATE ROLE "{{name}}" LOGIN`, `COMMENT ON ROLE "{{name}}" IS '{{password}}'`])).toBe(false);
  });

  it("formats Postgres timestamps in UTC, rounded up to the second", () => {
    expect(pgTimestamp(new Date("2026-11-22T10:00:04.001Z"))).toBe("2026-11-22 10:00:05+00");
    expect(pgTimestamp(new Date("2026-11-22T10:00:05.000Z"))).toBe("2026-11-22 10:00:05+00");
  });
});
