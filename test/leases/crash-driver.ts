/**
 * Test-only entry point for the crash tests, run as `tsx test/leases/crash-driver.ts <create|revoke> <id>...`
 * with the server's environment (DATABASE_URL, LEASEHOLD_MASTER_KEY, LEASEHOLD_BOOTSTRAP_TOKEN,
 * LEASEHOLD_FAULT...). It opens the server exactly as `leasehold serve` does (prepare() from
 * src/server.ts: database, migrations, master key, container) and calls the lease service the
 * HTTP routes will call, as the bootstrap Owner. With LEASEHOLD_FAULT set, the process SIGKILLs
 * itself at that step. There are no dynamic-secret HTTP routes yet; once there are, the crash
 * test can drive a real `serve` instead, through the same service code.
 */
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { prepare } from "../../src/server.js";

const [action, ...ids] = process.argv.slice(2);
const config = loadConfig();
const { container, db } = await prepare(config, createLogger(config.LOG_LEVEL));
const owner = await container.authenticator.authenticate({ type: undefined, token: config.LEASEHOLD_BOOTSTRAP_TOKEN ?? "" });

const results = await Promise.allSettled(
  ids.map((id) =>
    action === "create"
      ? container.leases.createLease(owner, undefined, { secretId: id, ttl: 3600 }).then((r) => r.lease.id)
      : container.leases.revokeLease(owner, undefined, { leaseId: id }).then((r) => r.outcome),
  ),
);
process.stdout.write(`${JSON.stringify(results.map((r) => (r.status === "fulfilled" ? r.value : String(r.reason))))}\n`);
await container.providers.closeAll();
await container.audit.close();
await db.close();
