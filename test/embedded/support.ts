import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { PROJECT_ROOT } from "../../src/paths.js";
import { startServer, type RunningServer } from "../../src/server.js";

const PGLITE_VERSION = JSON.parse(readFileSync(join(PROJECT_ROOT, "node_modules/@electric-sql/pglite/package.json"), "utf8")).version as string;

/**
 * An initdb'd, empty PGlite cluster, built once per machine and PGlite version (initdb in WASM takes
 * ~3 s; copying the result takes a few ms). Built in a private dir and renamed into place, so
 * parallel test files never see a half-built template. Not migrated: the server under test migrates.
 */
async function templatePgdata(): Promise<string> {
  const template = join(tmpdir(), `leasehold-pglite-template-${PGLITE_VERSION}`);
  if (existsSync(join(template, "PG_VERSION"))) return template;
  const { PGlite } = await import("@electric-sql/pglite");
  const building = mkdtempSync(join(tmpdir(), "leasehold-pglite-building-"));
  const db = await PGlite.create(join(building, "pgdata"));
  await db.close();
  try {
    renameSync(join(building, "pgdata"), template);
  } catch (e) {
    if (!existsSync(join(template, "PG_VERSION"))) throw e; // another file won the race
  }
  rmSync(building, { recursive: true, force: true });
  return template;
}

/** A new data dir holding a copy of the template cluster (no master key, no migrations yet). */
export async function freshDataDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "leasehold-data-"));
  cpSync(await templatePgdata(), join(dir, "pgdata"), { recursive: true });
  return dir;
}

export interface EmbeddedServer {
  server: RunningServer;
  config: Config;
  /** Parsed JSON log lines. */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** startServer with no DATABASE_URL: the embedded database in `dataDir`. */
export async function startEmbedded(dataDir: string, env: Record<string, string> = {}): Promise<EmbeddedServer> {
  const config = loadConfig({ LEASEHOLD_DATA_DIR: dataDir, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", AUDIT_FLUSH_INTERVAL_MS: "20", ...env });
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const server = await startServer(config, createLogger(config.LOG_LEVEL, sink));
  return { server, config, logs: () => lines, close: () => server.close() };
}

/** Runs test/embedded/fixtures/<script> in its own Node process (through tsx), line-buffered stdout. */
export function spawnFixture(script: string, args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "test/embedded/fixtures", script), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
  });
}

/** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
export function waitForLine(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const onData = (d: Buffer) => {
      out += String(d);
      const line = out.split("\n").find((l) => pattern.test(l));
      if (line) {
        child.stdout.off("data", onData);
        resolve(line);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (d: Buffer) => (err += String(d)));
    child.once("close", (code) => reject(new Error(`fixture exited (${code}) before printing ${pattern}: ${out}${err}`)));
  });
}

/** Exit code and output of a fixture that runs to completion. */
export function runFixture(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnFixture(script, args, env);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += String(d)));
  child.stderr.on("data", (d: Buffer) => (stderr += String(d)));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}
