#!/usr/bin/env node
import { CLIENT_COMMANDS, CLIENT_ENVIRONMENT } from "./client/help.js";
import { clientCommand } from "./client/main.js";

const USAGE = `Usage: leasehold <command> [options]

Server commands (configured from the environment; see .env.example):
  serve               start the server (default)
  migrate             apply database migrations and exit
  bootstrap           create the first Owner and print its token (refused if an Owner exists)
  rotate-master-key   re-wrap every environment key under LEASEHOLD_NEW_MASTER_KEY

${CLIENT_COMMANDS}

  help [command]      show this message, or a client command's options

${CLIENT_ENVIRONMENT}`;

type Command = (args: string[]) => Promise<number>;

/**
 * Commands are imported on use: the client commands (src/cli/client/) must start fast and never
 * load the server's database, crypto or config modules.
 */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import("./serve.js")).runServe,
  migrate: async () => (await import("./migrate.js")).runMigrate,
  bootstrap: async () => (await import("./bootstrap.js")).runBootstrap,
  "rotate-master-key": async () => (await import("./rotate-master-key.js")).runRotateMasterKey,
  secrets: async () => clientCommand((await import("./client/export.js")).runSecrets),
  run: async () => clientCommand((await import("./client/run.js")).runRun),
  lease: async () => clientCommand((await import("./client/lease.js")).runLease),
};
const CLIENT = new Set(["secrets", "run", "lease"]);

async function main(argv: string[]): Promise<number> {
  const [name = "serve", ...rest] = argv;
  if (name === "help" || name === "--help" || name === "-h") {
    if (rest[0] && CLIENT.has(rest[0])) return (await commands[rest[0]]!())(["--help"]);
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`leasehold: unknown command '${name}'\n\n${USAGE}\n`);
    return 64;
  }
  return (await load())(rest);
}

/** Errors an operator fixes from the message alone (wrong key, data dir in use...): no stack trace. */
const OPERATOR_ERRORS = new Set(["MasterKeyMismatchError", "MasterKeyFileError", "DataDirLockedError", "MigrationError", "RotationError"]);

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== "serve") process.exitCode = code;
  },
  async (err: unknown) => {
    const name = err instanceof Error ? err.name : "";
    if (name === "ConfigError") {
      process.stderr.write(`leasehold: ${(err as Error).message}\n`);
      process.exit(78); // EX_CONFIG
    }
    if (OPERATOR_ERRORS.has(name)) {
      process.stderr.write(`leasehold: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const { createLogger } = await import("../logger.js");
    createLogger("error").fatal({ err }, "leasehold failed");
    process.stderr.write(`leasehold: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
