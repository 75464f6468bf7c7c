import { spawn } from "node:child_process";
import { constants } from "node:os";
import { CONTEXT_OPTIONS, context, optional, parseOptions, seconds } from "./args.js";
import { CliError, EXIT, usageError } from "./errors.js";
import { RUN_HELP } from "./help.js";
import { createApiClient, type ApiClient } from "./http.js";
import { revokeLease } from "./lease.js";
import { note, out, warnSkipped } from "./output.js";
import { fetchWithLeases, type TakenLease } from "./secrets.js";
import { loadSettings, TOKEN_VARIABLES } from "./settings.js";

const OPTIONS = {
  ...CONTEXT_OPTIONS,
  path: { type: "string", default: "/" },
  tags: { type: "string" },
  leases: { type: "boolean" },
  "lease-ttl": { type: "string" },
} as const;

/** What an OS environment can carry: a non-empty name without `=` or NUL, a value without NUL. */
const ENV_NAME = /^[^=\0]+$/;
const COMMAND_AFTER_DASHES = "give the command after --, e.g. leasehold run --app <id> --env <name> -- node server.js";
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** `leasehold run … -- <command>`: the command with the secrets in its environment. */
export async function runRun(args: string[]): Promise<number> {
  const sep = args.indexOf("--");
  const values = parseOptions(sep === -1 ? args : args.slice(0, sep), OPTIONS, sep === -1 ? COMMAND_AFTER_DASHES : undefined);
  if (values["help"]) return out(`${RUN_HELP}\n`), 0;
  const { appId, env } = context(values);
  const command = sep === -1 ? [] : args.slice(sep + 1);
  if (command.length === 0 || !command[0]) throw usageError(COMMAND_AFTER_DASHES);

  const ttl = seconds(values, "lease-ttl");
  if (ttl !== undefined && !values["leases"]) throw usageError("--lease-ttl needs --leases");

  const client = createApiClient(loadSettings());
  const query = { appId, env, path: optional(values, "path"), tags: optional(values, "tags") };
  const fetched = await fetchWithLeases(client, query, values["leases"] ? ttl : null);
  try {
    const entries = fetched.entries();
    const carried = ([k, v]: [string, string]) => ENV_NAME.test(k) && !v.includes("\0");
    warnSkipped(entries.filter((e) => !carried(e)).map(([k]) => k), "cannot be an environment variable");

    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const name of TOKEN_VARIABLES) delete childEnv[name]; // the command gets the secrets, not the token that fetched them
    for (const [k, v] of entries.filter(carried)) childEnv[k] = v; // secrets override inherited variables
    return await execute(command[0], command.slice(1), childEnv);
  } finally {
    await revokeAll(client, appId, env, fetched.leases);
  }
}

/** The command's leases end with it; one that cannot be revoked now still ends at its expiry. */
async function revokeAll(client: ApiClient, appId: string, env: string, leases: TakenLease[]): Promise<void> {
  for (const lease of leases) {
    try {
      await revokeLease(client, appId, env, lease.id);
    } catch (err) {
      note(`lease ${lease.id} could not be revoked now (${err instanceof Error ? err.message : String(err)}); it ends at its expiry, ${lease.expiresAt}`);
    }
  }
}

/** Spawns without a shell, forwards signals, and resolves to the exit code to pass on. */
function execute(file: string, argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: "inherit", env });
    const forward = (signal: NodeJS.Signals) => void child.kill(signal);
    for (const s of FORWARDED) process.on(s, forward);
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      for (const s of FORWARDED) process.off(s, forward);
      fn();
    };
    child.on("error", (err: NodeJS.ErrnoException) =>
      settle(() => {
        if (err.code === "ENOENT") reject(new CliError(EXIT.commandNotFound, `command not found: ${file}`));
        else reject(new CliError(EXIT.cannotExecute, `cannot run ${file}: ${err.code ?? err.message}`));
      }),
    );
    child.on("exit", (code, signal) =>
      settle(() => {
        if (signal) note(`${file} was killed by ${signal}`);
        resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 0));
      }),
    );
  });
}
