import { withTimeout } from "../async.js";
import { loadConfig } from "../config.js";
import { createLogger } from "../logger.js";
import { startServer } from "../server.js";
import { printBootstrapToken } from "./bootstrap.js";

/** How long a shutdown past its deadline still waits for the audit buffer to be written. */
const AUDIT_FLUSH_GRACE_MS = 2_000;

/**
 * `leasehold serve`: start, and shut down gracefully on SIGTERM/SIGINT (a second signal forces
 * exit; SHUTDOWN_TIMEOUT_MS bounds the whole shutdown).
 */
export async function runServe(_args: string[]): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const server = await startServer(config, log, { onBootstrap: printBootstrapToken });
  // The instance id is what this process writes into leases.claimed_by.
  log.info({ url: server.url, database: server.container.db.kind, instance: server.container.instanceId }, "leasehold is listening");
  let stopping = false;
  /** A shutdown cut short (second signal, deadline): keep the audit trail if it can be written quickly, then go. */
  const forceExit = (code: number) => {
    const flushed = withTimeout(server.container.audit.flush(), AUDIT_FLUSH_GRACE_MS, () => new Error("audit flush timed out"));
    void flushed.catch(() => undefined).finally(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      return forceExit(130);
    }
    stopping = true;
    log.info({ signal }, "shutting down gracefully");
    setTimeout(() => {
      // A request that never completes holds the close.
      log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, "graceful shutdown did not finish in time; exiting");
      forceExit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return 0;
}
