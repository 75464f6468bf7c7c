import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/paths.js";

/**
 * Runs `tsx src/cli/index.ts <args>` as a child process with only the environment given (plus
 * PATH/HOME), as an operator would. tsx is started directly rather than through `npx tsx`: npm
 * exec does not forward SIGTERM to its child (the server would be orphaned), while tsx relays
 * signals to the program and exits with its exit code.
 */
const TSX = join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const CLI = join(PROJECT_ROOT, "src", "cli", "index.ts");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [TSX, CLI, ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const runCli = (args: string[], env: Record<string, string>) => finished(spawnCli(args, env));

/** The lines of `text` that are exactly a 64-hex token. */
export const tokenLines = (text: string) => text.split("\n").filter((l) => /^[0-9a-f]{64}$/.test(l));
