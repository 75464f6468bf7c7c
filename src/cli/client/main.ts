import { CliError } from "./errors.js";

type Command = (args: string[]) => Promise<number>;

/** Runs a client command; a CliError becomes `leasehold: <message>` on stderr and its exit code. */
export function clientCommand(command: Command): Command {
  return async (args) => {
    try {
      return await command(args);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      process.stderr.write(`leasehold: ${err.message}\n`);
      return err.code;
    }
  };
}

