import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError } from "../../src/cli/client/errors.js";
import { dotenvValue, shellValue } from "../../src/cli/client/formats.js";
import { loadSettings } from "../../src/cli/client/settings.js";
import { parseToken } from "../../src/cli/client/token.js";
import { PROJECT_ROOT } from "../../src/paths.js";

const [A, B, C, D] = ["a", "b", "c", "d"].map((ch) => ch.repeat(64)) as [string, string, string, string];

function failure(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a CliError");
}

describe("token forms, parsed as Phase's Go SDK parses them", () => {
  it("pss_service:v2 is ServiceAccount, other pss_service versions Service, pss_user:vN User; the first segment is the token", () => {
    expect(parseToken(`pss_service:v2:${A}:${B}:${C}:${D}`, "T")).toEqual({ token: A, type: "ServiceAccount" });
    expect(parseToken(`pss_service:v1:${A}:${B}:${C}:${D}`, "T")).toEqual({ token: A, type: "Service" });
    expect(parseToken(`pss_user:v1:${B}:${A}:${C}:${D}`, "T")).toEqual({ token: B, type: "User" });
    expect(parseToken(`pss_user:v2:${B}:${A}:${C}:${D}`, "T")).toEqual({ token: B, type: "User" });
  });

  it("a raw token has no type unless LEASEHOLD_TOKEN_TYPE says; upper-case hex, surrounding whitespace and a pasted header value are accepted", () => {
    expect(parseToken(A, "T")).toEqual({ token: A, type: undefined });
    expect(parseToken(` ${A.toUpperCase()}\n`, "T", "User")).toEqual({ token: A, type: "User" });
    expect(parseToken(`Bearer ServiceAccount ${A}`, "T")).toEqual({ token: A, type: "ServiceAccount" });
    expect(parseToken(`User ${A}`, "T")).toEqual({ token: A, type: "User" });
  });

  it("malformed tokens are configuration errors that name the variable, never the token", () => {
    const cases: [string, string][] = [
      [`pss_service:v2:${A}:${B}:${C}`, "service token (pss_service:v2:…)"],
      [`pss_user:v1:${A}`, "user token (pss_user:v1:…)"],
      [A.slice(1), "token"],
      [`Bearer Robot ${A}`, "token"],
    ];
    for (const [value, kind] of cases) {
      const f = failure(() => parseToken(value, "PHASE_SERVICE_TOKEN"));
      expect(f).toEqual({ code: 78, message: `PHASE_SERVICE_TOKEN is not a valid ${kind}: expected pss_service:v2:…, pss_user:v1:… or a 64-hex token` });
      expect(f.message).not.toContain(A.slice(1));
    }
  });
});

describe("host and token settings", () => {
  const tok = { LEASEHOLD_TOKEN: A };
  it("LEASEHOLD_HOST, else PHASE_HOST with /service/public (once), else the default; trailing slashes dropped", () => {
    expect(loadSettings(tok).apiBase).toBe("http://127.0.0.1:8080");
    expect(loadSettings({ ...tok, LEASEHOLD_HOST: "https://vault.example.com/" }).apiBase).toBe("https://vault.example.com");
    expect(loadSettings({ ...tok, LEASEHOLD_HOST: "https://example.com/leasehold//" }).apiBase).toBe("https://example.com/leasehold");
    expect(loadSettings({ ...tok, PHASE_HOST: "https://phase.example.com/" }).apiBase).toBe("https://phase.example.com/service/public");
    expect(loadSettings({ ...tok, PHASE_HOST: "https://phase.example.com/service/public/" }).apiBase).toBe("https://phase.example.com/service/public");
    expect(loadSettings({ ...tok, LEASEHOLD_HOST: " ", PHASE_HOST: "http://p:1" }).apiBase).toBe("http://p:1/service/public");
  });

  it("LEASEHOLD_TOKEN over PHASE_SERVICE_TOKEN; timeout; bad values are configuration errors", () => {
    expect(loadSettings({ LEASEHOLD_TOKEN: A, PHASE_SERVICE_TOKEN: B }).credential.token).toBe(A);
    expect(loadSettings({ PHASE_SERVICE_TOKEN: `pss_service:v2:${B}:${A}:${C}:${D}` }).credential).toEqual({ token: B, type: "ServiceAccount" });
    expect(loadSettings({ ...tok, LEASEHOLD_TIMEOUT: "2.5" }).timeoutMs).toBe(2500);
    expect(loadSettings(tok).timeoutMs).toBe(60_000);
    expect(failure(() => loadSettings({ ...tok, LEASEHOLD_HOST: "https://user:pw@example.com" }))).toEqual({ code: 78, message: "LEASEHOLD_HOST must not contain credentials; use LEASEHOLD_TOKEN" });
    expect(failure(() => loadSettings({ ...tok, PHASE_HOST: "example.com" }))).toEqual({ code: 78, message: "PHASE_HOST must be an http(s) URL such as http://127.0.0.1:8080" });
    expect(failure(() => loadSettings({ ...tok, LEASEHOLD_HOST: "http://x/?a=1" }))).toEqual({ code: 78, message: "LEASEHOLD_HOST must not have a query or fragment" });
    expect(failure(() => loadSettings({ ...tok, LEASEHOLD_TIMEOUT: "0" }))).toEqual({ code: 78, message: "LEASEHOLD_TIMEOUT must be a positive number of seconds" });
    expect(failure(() => loadSettings({}))).toEqual({ code: 78, message: "no token: set LEASEHOLD_TOKEN (or PHASE_SERVICE_TOKEN)" });
  });
});

describe("value quoting", () => {
  it("dotenv: bare, single-quoted, or double-quoted with escapes", () => {
    const cases: [string, string][] = [
      ["", ""],
      ["postgres://u@h:5432/db", "postgres://u@h:5432/db"],
      ["a b", "'a b'"],
      ["a\nb", "'a\nb'"],
      ["#x", "'#x'"],
      ["$X", "'$X'"],
      ["é", "'é'"],
      ["it's", `"it's"`],
      ["it's\n$x `y` \\ \"z\"\r", `"it's\\n\\$x \\\`y\\\` \\\\ \\"z\\"\\r"`],
    ];
    for (const [value, out] of cases) expect(dotenvValue(value), JSON.stringify(value)).toBe(out);
  });

  it("shell: single quotes, ' as '\\''", () => {
    expect(shellValue("it's $x")).toBe(`'it'\\''s $x'`);
  });
});

describe("dependency direction", () => {
  it("src/cli/client/ imports only itself, node: built-ins and yaml (never the server's modules)", async () => {
    const dir = join(PROJECT_ROOT, "src", "cli", "client");
    const files = (await readdir(dir)).filter((n) => n.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = await readFile(join(dir, file), "utf8");
      const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]!);
      for (const s of specifiers) expect(s.startsWith("./") || s.startsWith("node:") || s === "yaml", `${file} imports ${s}`).toBe(true);
    }
  });

  it("src/cli/index.ts loads the server's commands only on use", async () => {
    const text = await readFile(join(PROJECT_ROOT, "src", "cli", "index.ts"), "utf8");
    const staticImports = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(staticImports).toEqual(["./client/help.js", "./client/main.js"]);
  });
});
