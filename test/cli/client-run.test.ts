import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finished } from "./cli.js";
import { clientFixture, expectFailure, spawnClient, type ClientFixture } from "./client-helpers.js";

const GREETING = "héllo\nwörld $x 'q' \"dq\" #";
/** A child that prints the variables it was given, then exits with $CODE. */
const PRINT_AND_EXIT = `process.stdout.write(JSON.stringify({ GREETING: process.env.GREETING, FOO: process.env.FOO, KEEP: process.env.KEEP, DB_HOST: process.env.DB_HOST })); process.exit(Number(process.env.CODE))`;

let f: ClientFixture;
beforeAll(async () => {
  f = await clientFixture();
  await f.post([
    { key: "CODE", value: "7" },
    { key: "GREETING", value: GREETING },
    { key: "FOO", value: "from-secret" },
    { key: "DB_HOST", value: "db.internal", path: "/db" },
    { key: "LEASEHOLD_TOKEN", value: "a-token-the-command-is-meant-to-get", path: "/ci" },
  ]);
});
afterAll(async () => f?.close());

const runArgs = (...rest: string[]) => ["run", "--app", f.appId, "--env", "Development", ...rest];

describe("leasehold run -- <command> (a real child process against a real server)", () => {
  it("runs the command (no shell, found on PATH) with the secrets, which override inherited variables; exit code passed through", async () => {
    const r = await f.cli(runArgs("--", "node", "-e", PRINT_AND_EXIT), { FOO: "inherited", KEEP: "kept" });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 7, stderr: "" });
    expect(JSON.parse(r.stdout)).toEqual({ GREETING, FOO: "from-secret", KEEP: "kept" }); // DB_HOST is under /db
  });

  it("the command gets the secrets, not the CLI's token: LEASEHOLD_TOKEN and PHASE_SERVICE_TOKEN are removed (a secret of that name still passes)", async () => {
    const seen = `process.stdout.write(JSON.stringify(["LEASEHOLD_TOKEN", "PHASE_SERVICE_TOKEN", "LEASEHOLD_HOST", "FOO"].map((k) => [k, process.env[k] ?? null])))`;
    const both = await f.cli(runArgs("--", "node", "-e", seen), { PHASE_SERVICE_TOKEN: f.sa.phase_token });
    expect({ code: both.code, stderr: both.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(both.stdout)).toEqual([["LEASEHOLD_TOKEN", null], ["PHASE_SERVICE_TOKEN", null], ["LEASEHOLD_HOST", f.t.url], ["FOO", "from-secret"]]);
    // Authenticated by PHASE_SERVICE_TOKEN alone (LEASEHOLD_TOKEN blank), with a secret named LEASEHOLD_TOKEN under /ci.
    const phase = await f.cli(runArgs("--path", "/ci", "--", "node", "-e", seen), { LEASEHOLD_TOKEN: " ", PHASE_SERVICE_TOKEN: f.sa.phase_token });
    expect({ code: phase.code, stderr: phase.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(phase.stdout)).toEqual([
      ["LEASEHOLD_TOKEN", "a-token-the-command-is-meant-to-get"],
      ["PHASE_SERVICE_TOKEN", null],
      ["LEASEHOLD_HOST", f.t.url],
      ["FOO", null],
    ]);
  });

  it("--path picks the folder; exit 0 passes through too", async () => {
    const r = await f.cli(runArgs("--path", "/db", "--", "node", "-e", `process.stdout.write(process.env.DB_HOST + "|" + String(process.env.CODE))`));
    expect(r).toMatchObject({ code: 0, stdout: "db.internal|undefined", stderr: "" });
  });

  it("a command killed by a signal: 128 + its number", async () => {
    const r = await f.cli(runArgs("--", "node", "-e", "process.kill(process.pid, 'SIGKILL')"));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 137, stderr: "leasehold: node was killed by SIGKILL\n" });
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`forwards ${signal} to the command and exits with the command's code`, async () => {
      const script = `process.on('${signal}', () => { process.stdout.write('got ${signal}\\n'); process.exit(3); }); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
      const child = spawnClient(runArgs("--", "node", "-e", script), f.env());
      const done = finished(child);
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on("line", (line) => line === "ready" && resolve());
        void done.then((r) => reject(new Error(`exited before ready: ${r.code} ${r.stderr}`)));
      });
      child.kill(signal);
      const r = await done;
      expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 3, signal: null, stderr: "" });
      expect(r.stdout).toBe(`ready\ngot ${signal}\n`);
    });
  }

  it("failures before the command starts: the command never runs", async () => {
    const ran = ["--", "node", "-e", "process.stdout.write('ran')"];
    expectFailure(await f.cli(runArgs(...ran), { LEASEHOLD_TOKEN: "e".repeat(64) }), 77, "Token expired or deleted (HTTP 401)");
    expectFailure(await f.cli(["run", "--app", f.appId, "--env", "Production", ...ran]), 77, "Service account cannot access this environment (HTTP 401)");
    const hint = "give the command after --, e.g. leasehold run --app <id> --env <name> -- node server.js";
    expectFailure(await f.cli(runArgs("node", "-e", "1")), 64, hint);
    expectFailure(await f.cli(runArgs("--")), 64, hint);
    expectFailure(await f.cli(runArgs("--", "no-such-command-lh")), 127, "command not found: no-such-command-lh");
  });

  it("help", async () => {
    const r = await f.cli(["run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: leasehold run --app <id> --env <name> \[--path \/\] \[--tags a,b\] \[--leases \[--lease-ttl <s>\]\] -- <command> \[args\.\.\.\]\n/);
  });
});
