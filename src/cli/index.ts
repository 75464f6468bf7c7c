#!/usr/bin/env node
import { ConfigError } from "../config.js";
import { createLogger } from "../logger.js";
import { runBootstrap } from "./bootstrap.js";
import { runMigrate } from "./migrate.js";
import { runRotateMasterKey } from "./rotate-master-key.js";
import { runServe } from "./serve.js";

const USAGE = `Usage: leasehold <command>

Commands:
  serve               start the server (default)
  migrate             apply database migrations and exit
  bootstrap           create the first Owner and print its token (refused if an Owner exists)
  rotate-master-key   re-wrap every environment key under LEASEHOLD_NEW_MASTER_KEY
  help                show this message

Configuration comes from the environment; see .env.example.`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  serve: runServe,
  migrate: runMigrate,
  bootstrap: runBootstrap,
  "rotate-master-key": runRotateMasterKey,
};

async function main(argv: string[]): Promise<number> {
  const [name = "serve", ...rest] = argv;
  if (name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`leasehold: unknown command '${name}'\n\n${USAGE}\n`);
    return 64;
  }
  return command(rest);
}

/** Errors an operator fixes from the message alone (wrong key, data dir in use...): no stack trace. */
const OPERATOR_ERRORS = new Set(["MasterKeyMismatchError", "MasterKeyFileError", "DataDirLockedError", "MigrationError", "RotationError"]);

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== "serve") process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`leasehold: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    if (err instanceof Error && OPERATOR_ERRORS.has(err.name)) {
      process.stderr.write(`leasehold: ${err.message}\n`);
      process.exit(1);
    }
    const log = createLogger("error");
    log.fatal({ err }, "leasehold failed");
    process.stderr.write(`leasehold: ${(err as Error).message}\n`);
    process.exit(1);
  },
);

