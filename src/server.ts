import type { Logger } from "pino";
import { buildApp } from "./app.js";
import { auditInserter } from "./audit/insert.js";
import { createAuditWriter } from "./audit/writer.js";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import { createContainer, type Container } from "./container.js";
import { sodiumReady } from "./crypto/sodium.js";
import { openDatabase, type Database } from "./db/database.js";
import { tlsServerOptions } from "./http/tls.js";
import type { App } from "./http/types.js";
import type { IssuedToken } from "./identity/service.js";
import { openMasterKey } from "./keys/master-key.js";
import type { Provider } from "./providers/provider.js";

export interface RunningServer {
  app: App;
  container: Container;
  /** The base URL it listens on, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Graceful: stop accepting, finish in-flight requests, flush the audit buffer, close pools. */
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  /** Called with the bootstrap token when this start created the first Owner. */
  onBootstrap?: (token: string) => void;
  /** Extra dynamic-secret providers (tests wrap the real ones to count calls or inject failures). */
  providers?: Provider[];
}

/** Opens the database, migrates, checks the master key, bootstraps, and prepares the app. */
export interface Prepared {
  container: Container;
  db: Database;
  /** The token of the Owner this start created, or null when an Owner already existed. */
  bootstrapped: IssuedToken | null;
}

export async function prepare(config: Config, log: Logger, opts: StartOptions = {}): Promise<Prepared> {
  await sodiumReady();
  const db = await openDatabase(config);
  try {
    const migrations = await db.migrate();
    if (migrations.applied.length > 0) log.info({ applied: migrations.applied }, "applied database migrations");
    for (const name of migrations.checksumMismatches) log.warn({ migration: name }, "applied migration differs from its file");
    const masterKey = await openMasterKey(config, db.prisma, log);
    const audit = createAuditWriter({ insert: auditInserter(db), log, intervalMs: config.AUDIT_FLUSH_INTERVAL_MS, batchSize: config.AUDIT_BATCH_SIZE });
    const container = createContainer({
      config,
      db,
      masterKey,
      clock: opts.clock ?? systemClock,
      audit,
      log,
      ...(opts.providers ? { extraProviders: opts.providers } : {}),
    });
    const issued = await container.identityService.bootstrap({ token: config.LEASEHOLD_BOOTSTRAP_TOKEN });
    if (issued && !config.LEASEHOLD_BOOTSTRAP_TOKEN) opts.onBootstrap?.(issued.token);
    if (issued) log.info({ tokenId: issued.id }, "created the first Owner");
    if (!issued && config.LEASEHOLD_BOOTSTRAP_TOKEN) {
      log.warn("LEASEHOLD_BOOTSTRAP_TOKEN is set but an Owner already exists: it was ignored (it is used only by the first start); remove it from the environment");
    }
    return { container, db, bootstrapped: issued };
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
}

export async function startServer(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningServer> {
  const tls = tlsServerOptions(config); // a bad certificate or key stops us before the database is opened
  const { container, db } = await prepare(config, log, opts);
  const app = await buildApp(container, { logger: log, ...(tls ? { serverOptions: tls } : {}) });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await app.close();
      // After in-flight requests: finish running revocations, hand back queued claims.
      await container.reaper.stop().catch((err: unknown) => log.error({ err }, "reaper stop failed"));
      await container.auditRetention.stop().catch((err: unknown) => log.error({ err }, "audit retention stop failed"));
      await container.providers.closeAll();
      await container.audit.close();
      await db.close();
    })());
  try {
    const address = await app.listen({ host: config.HOST, port: config.PORT });
    container.reaper.start();
    container.auditRetention.start();
    return { app, container, url: address, close };
  } catch (e) {
    await close();
    throw e;
  }
}
