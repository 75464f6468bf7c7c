/**
 * Test-only entry point for the rotate-root crash test, run as `tsx test/dynamic-engines/rotate-driver.ts <engine>`
 * with the server's environment (DATABASE_URL, LEASEHOLD_MASTER_KEY, LEASEHOLD_FAULT...). It opens
 * the server exactly as `leasehold serve` does (prepare() from src/server.ts) and calls the
 * rotation the HTTP route calls. With LEASEHOLD_FAULT=engine-root-rotated the process SIGKILLs
 * itself after the target's root password changed and before the new one is stored.
 */
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { prepare } from "../../src/server.js";

const [engine] = process.argv.slice(2);
const config = loadConfig();
const { container, db } = await prepare(config, createLogger(config.LOG_LEVEL));
const result = await container.engines.rotation.rotate(engine ?? "").then(
  (e) => `rotated ${e.name}`,
  (err: unknown) => `failed: ${err instanceof Error ? err.message : String(err)}`,
);
process.stdout.write(`${result}\n`);
await container.providers.closeAll();
await container.audit.close();
await db.close();
