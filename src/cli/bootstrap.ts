import { loadConfig } from "../config.js";
import { createLogger } from "../logger.js";
import { prepare } from "../server.js";

/** Prints the first Owner's token once, on its own line, so it can be copied or captured by a script. */
export function printBootstrapToken(token: string): void {
  process.stdout.write(
    [
      "",
      "Leasehold created the first Owner. Its API token, shown only this once:",
      token,
      "Use it as:  Authorization: Bearer User <token>   (store it in a password manager)",
      "",
    ].join("\n") + "\n",
  );
}

/**
 * `leasehold bootstrap`: the same first-Owner creation the server does at start. With
 * LEASEHOLD_BOOTSTRAP_TOKEN set that token becomes the Owner's; a second bootstrap is refused.
 */
export async function runBootstrap(_args: string[]): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL);
  const { container, db, bootstrapped } = await prepare(config, log, { onBootstrap: printBootstrapToken });
  try {
    await container.audit.close();
    if (!bootstrapped) {
      process.stderr.write("leasehold: an Owner already exists; bootstrap refused. Create further tokens through the API.\n");
      return 1;
    }
    if (config.LEASEHOLD_BOOTSTRAP_TOKEN) process.stdout.write("Created the first Owner with LEASEHOLD_BOOTSTRAP_TOKEN as its token.\n");
    return 0;
  } finally {
    await db.close();
  }
}
