import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { clientFixture, expectFailure, type ClientFixture } from "./client-helpers.js";

/** Values that break naive quoting: each must come back exactly from every format. */
const VALUES: Record<string, string> = {
  PLAIN: "abc-123_x.y/z:8080@h%,+=",
  EMPTY: "",
  BASE64: "aGVsbG8=",
  SPACES: "two words  ",
  NEWLINE: "line1\nline2\n",
  DQUOTE: 'say "hi"',
  DOLLAR: "$HOME and ${USER} $(id) `id`",
  HASH: "#not-a-comment # still",
  BACKSLASH: "C:\\path\\n",
  UNICODE: "ünïcødé ✓ 😀",
  SQUOTE: "it's",
  MIXED: "it's \"$x\"\n`cmd` \\ #",
};

const DOTENV = [
  `BACKSLASH='C:\\path\\n'`,
  `BASE64=aGVsbG8=`,
  "DOLLAR='$HOME and ${USER} $(id) `id`'",
  `DQUOTE='say "hi"'`,
  `EMPTY=`,
  `HASH='#not-a-comment # still'`,
  'MIXED="it\'s \\"\\$x\\"\\n\\`cmd\\` \\\\ #"',
  `NEWLINE='line1\nline2\n'`,
  `PLAIN=abc-123_x.y/z:8080@h%,+=`,
  `SPACES='two words  '`,
  `SQUOTE="it's"`,
  `UNICODE='ünïcødé ✓ 😀'`,
].join("\n") + "\n";

/** A loopback port nothing listens on (just released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sorted = Object.fromEntries(Object.entries(VALUES).sort(([a], [b]) => (a < b ? -1 : 1)));

let f: ClientFixture;
let tmp: string;
beforeAll(async () => {
  f = await clientFixture();
  tmp = await mkdtemp(join(tmpdir(), "leasehold-cli-"));
  await f.post(Object.entries(VALUES).map(([key, value]) => ({ key, value })));
  await f.post([
    { key: "DB_HOST", value: "db.internal", path: "/db" },
    { key: "PLAIN", value: "shadow", path: "/dup" },
    { key: "MY-KEY", value: "dashed", path: "/odd" },
    { key: "HAS SPACE", value: "spaced", path: "/odd" },
    { key: "TAGGED", value: "t", path: "/tags", tags: ["ci"] },
    { key: "UNTAGGED", value: "u", path: "/tags" },
  ]);
  await f.post([{ key: "PROD_ONLY", value: "p" }], "Production");
});
afterAll(async () => {
  await f?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const exportArgs = (...extra: string[]) => ["secrets", "export", "--app", f.appId, "--env", "development", ...extra];

describe("leasehold secrets export (a real child process against a real server)", () => {
  it("dotenv (the default): exact quoting, and Node's own dotenv parser reads every value back", async () => {
    const r = await f.cli(exportArgs());
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toBe(DOTENV);
    // Node's parser expands only \n inside double quotes: every value but MIXED round-trips.
    const { MIXED: _m, ...rest } = sorted;
    const { MIXED: _p, ...parsed } = parseEnv(r.stdout);
    expect(parsed).toEqual(rest);
  });

  it("json: an object KEY -> value, sorted by key, exact", async () => {
    const r = await f.cli(exportArgs("--format", "json"));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toBe(`${JSON.stringify(sorted, null, 2)}\n`);
    expect(JSON.parse(r.stdout)).toEqual(VALUES);
  });

  it("yaml: exact text that parses back to the same values", async () => {
    const r = await f.cli(exportArgs("--format", "yaml"));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toBe(
      [
        `BACKSLASH: C:\\path\\n`,
        `BASE64: aGVsbG8=`,
        "DOLLAR: $HOME and ${USER} $(id) `id`",
        `DQUOTE: say "hi"`,
        `EMPTY: ""`,
        `HASH: "#not-a-comment # still"`,
        `MIXED: |-`,
        `  it's "$x"`,
        "  `cmd` \\ #",
        `NEWLINE: |`,
        `  line1`,
        `  line2`,
        `PLAIN: abc-123_x.y/z:8080@h%,+=`,
        `SPACES: "two words  "`,
        `SQUOTE: it's`,
        `UNICODE: ünïcødé ✓ 😀`,
        ``,
      ].join("\n"),
    );
    expect(parseYaml(r.stdout)).toEqual(VALUES);
  });

  it("shell: export lines that sh reads back exactly (set -a; . file)", async () => {
    const r = await f.cli(exportArgs("--format", "shell"));
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(`export BACKSLASH='C:\\path\\n'`);
    expect(r.stdout).toContain(`export SQUOTE='it'\\''s'\n`);
    const file = join(tmp, "env.sh");
    await writeFile(file, r.stdout);
    const print = `process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(Object.keys(VALUES))}.map((k) => [k, process.env[k]]))))`;
    const { stdout } = await promisify(execFile)("sh", ["-c", `. "$1" && exec "$2" -e "$3"`, "sh", file, process.execPath, print], { env: { PATH: process.env["PATH"] ?? "" } });
    expect(JSON.parse(stdout)).toEqual(VALUES);
  });

  it("--path picks a folder; --path '' reads every folder and refuses a key defined twice", async () => {
    const db = await f.cli(exportArgs("--path", "/db"));
    expect({ code: db.code, stdout: db.stdout }).toEqual({ code: 0, stdout: "DB_HOST=db.internal\n" });
    const all = await f.cli(exportArgs("--path", ""));
    expectFailure(all, 65, "PLAIN is defined in both / and /dup; choose one with --path");
  });

  it("--tags filters; names a format cannot carry are skipped with a warning", async () => {
    const tagged = await f.cli(exportArgs("--path", "/tags", "--tags", "ci", "--format", "json"));
    expect({ code: tagged.code, stdout: tagged.stdout }).toEqual({ code: 0, stdout: `{\n  "TAGGED": "t"\n}\n` });
    const both = await f.cli(exportArgs("--path", "/tags"));
    expect(both.stdout).toBe("TAGGED=t\nUNTAGGED=u\n");

    const dotenv = await f.cli(exportArgs("--path", "/odd"));
    expect(dotenv).toMatchObject({ code: 0, stdout: "MY-KEY=dashed\n", stderr: `leasehold: skipped key "HAS SPACE": not a valid dotenv name\n` });
    const shell = await f.cli(exportArgs("--path", "/odd", "--format", "shell"));
    expect(shell).toMatchObject({ code: 0, stdout: "", stderr: `leasehold: skipped keys "HAS SPACE", "MY-KEY": not a valid shell name\n` });
    const json = await f.cli(exportArgs("--path", "/odd", "--format", "json"));
    expect(JSON.parse(json.stdout)).toEqual({ "HAS SPACE": "spaced", "MY-KEY": "dashed" });
  });
});

describe("tokens and hosts", () => {
  it("PHASE_HOST + PHASE_SERVICE_TOKEN in pss_service:v2 form, through /service/public as Phase's clients call it", async () => {
    expect(f.sa.phase_token).toMatch(/^pss_service:v2:/);
    const args = ["secrets", "export", "--app-id", f.appId, "--env", "Development", "--path", "/db"]; // Phase CLI's --app-id spelling
    const r = await f.cli(args, { LEASEHOLD_HOST: "", LEASEHOLD_TOKEN: "", PHASE_HOST: `${f.t.url}/`, PHASE_SERVICE_TOKEN: f.sa.phase_token });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: "DB_HOST=db.internal\n", stderr: "" });
    const urls = f.t.logs().filter((l) => l.includes(`"/service/public/v1/secrets/?app_id=${f.appId}`));
    expect(urls.length).toBeGreaterThan(0);
    expect(f.t.logs().join("\n")).not.toContain(f.sa.token);
  });

  it("LEASEHOLD_* wins over PHASE_*; the management API's 'Bearer ServiceAccount <t>' value is accepted too", async () => {
    const r = await f.cli(exportArgs("--path", "/db"), { PHASE_HOST: "http://127.0.0.1:1", PHASE_SERVICE_TOKEN: "0".repeat(64) });
    expect(r.stdout).toBe("DB_HOST=db.internal\n");
    const typed = await f.cli(exportArgs("--path", "/db"), { LEASEHOLD_TOKEN: `Bearer ServiceAccount ${f.sa.token}` });
    expect(typed.stdout).toBe("DB_HOST=db.internal\n");
  });

  it("a raw user token works (tried as ServiceAccount, then User); LEASEHOLD_TOKEN_TYPE pins the type", async () => {
    const owner = await f.cli(exportArgs("--path", "/db"), { LEASEHOLD_TOKEN: f.t.ownerToken });
    expect({ code: owner.code, stdout: owner.stdout }).toEqual({ code: 0, stdout: "DB_HOST=db.internal\n" });
    const pinnedUser = await f.cli(exportArgs("--path", "/db"), { LEASEHOLD_TOKEN: f.t.ownerToken, LEASEHOLD_TOKEN_TYPE: "user" });
    expect(pinnedUser.stdout).toBe("DB_HOST=db.internal\n");
    const pinnedService = await f.cli(exportArgs("--path", "/db"), { LEASEHOLD_TOKEN: f.t.ownerToken, LEASEHOLD_TOKEN_TYPE: "service" });
    expectFailure(pinnedService, 77, "Token expired or deleted (HTTP 401)");
    expectFailure(await f.cli(exportArgs(), { LEASEHOLD_TOKEN_TYPE: "robot" }), 78, "LEASEHOLD_TOKEN_TYPE must be 'user' or 'service'");
  });

  it("a user token in pss_user:v1 form sees its active personal override instead of the value", async () => {
    const owner = { Authorization: `Bearer ${f.t.ownerToken}` };
    const user = await f.t.http.post("/v1/users/").set(owner).send({ email: "dev@example.test", role: "Developer" });
    await f.t.http.post(`/v1/users/${user.body.id}/access/`).set(owner).send({ app_id: f.appId, environments: ["Development"] });
    const pat = await f.t.http.post(`/v1/users/${user.body.id}/tokens/`).set(owner).send({ name: "laptop" });
    expect(pat.body.phase_token).toMatch(/^pss_user:v1:/);
    const put = await f.t.http
      .post(`/v1/secrets/?app_id=${f.appId}&env=Development`)
      .set("Authorization", `Bearer User ${pat.body.token}`)
      .send({ secrets: [{ key: "OVERRIDDEN", value: "shared", path: "/ov", override: { value: "mine", isActive: true } }] });
    expect(put.status).toBe(200);
    const mine = await f.cli(exportArgs("--path", "/ov"), { LEASEHOLD_TOKEN: pat.body.phase_token });
    expect({ code: mine.code, stdout: mine.stdout }).toEqual({ code: 0, stdout: "OVERRIDDEN=mine\n" });
    const ci = await f.cli(exportArgs("--path", "/ov"));
    expect(ci.stdout).toBe("OVERRIDDEN=shared\n");
  });
});

describe("failures: the server's message on stderr, nothing on stdout, a distinct exit code", () => {
  it("a wrong token: 77", async () => {
    expectFailure(await f.cli(exportArgs(), { LEASEHOLD_TOKEN: "f".repeat(64) }), 77, "Token expired or deleted (HTTP 401)");
    expectFailure(await f.cli(exportArgs(), { LEASEHOLD_TOKEN: `pss_service:v2:${"f".repeat(64)}:${"a".repeat(64)}:${"b".repeat(64)}:${"c".repeat(64)}` }), 77, "Token expired or deleted (HTTP 401)");
  });

  it("an environment the account may not read: 77; an unknown app or environment: 66", async () => {
    const prod = await f.cli(["secrets", "export", "--app", f.appId, "--env", "Production"]);
    expectFailure(prod, 77, "Service account cannot access this environment (HTTP 401)");
    const app = "00000000-0000-4000-8000-000000000000";
    expectFailure(await f.cli(["secrets", "export", "--app", app, "--env", "Development"]), 66, `App with ID ${app} not found (HTTP 404)`);
    expectFailure(await f.cli(["secrets", "export", "--app", f.appId, "--env", "qa"]), 66, `Environment 'qa' not found in App ${f.appId} (HTTP 404)`);
  });

  it("usage errors: 64; configuration errors: 78, never echoing the token; an unreachable server: 69", async () => {
    expectFailure(await f.cli(["secrets", "export", "--app", f.appId]), 64, "--env is required");
    expectFailure(await f.cli(exportArgs("--format", "toml")), 64, "--format must be one of dotenv, json, yaml, shell");
    expectFailure(await f.cli(exportArgs("--colour")), 64, "Unknown option '--colour' (see --help)");
    expectFailure(await f.cli(["secrets", "import"]), 64, "unknown secrets command 'import' (known: export)");
    expectFailure(await f.cli(exportArgs("--app-id", f.appId)), 64, "give --app or --app-id, not both");
    expectFailure(await f.cli(exportArgs(), { LEASEHOLD_TOKEN: "" }), 78, "no token: set LEASEHOLD_TOKEN (or PHASE_SERVICE_TOKEN)");
    const bad = `pss_service:v2:${f.sa.token}:short`;
    const r = await f.cli(exportArgs(), { LEASEHOLD_TOKEN: bad });
    expectFailure(r, 78, "LEASEHOLD_TOKEN is not a valid service token (pss_service:v2:…): expected pss_service:v2:…, pss_user:v1:… or a 64-hex token");
    expectFailure(await f.cli(exportArgs(), { LEASEHOLD_HOST: "ftp://x" }), 78, "LEASEHOLD_HOST must be an http(s) URL such as http://127.0.0.1:8080");
    const port = await closedPort();
    expectFailure(await f.cli(exportArgs(), { LEASEHOLD_HOST: `http://127.0.0.1:${port}` }), 69, `cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it("help: leasehold help secrets, secrets export --help", async () => {
    const a = await f.cli(["help", "secrets"]);
    const b = await f.cli(["secrets", "export", "--help"]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^Usage: leasehold secrets export --app <id> --env <name> \[options\]\n/);
    expect(b.stdout).toBe(a.stdout);
    const top = await f.cli(["--help"]);
    expect(top.stdout).toContain("secrets export");
    expect(top.stdout).toContain("Exit codes: 0 ok, 64 usage");
  });
});
