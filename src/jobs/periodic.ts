import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";

export interface PeriodicJobOptions<T> {
  /** node-cron task name. */
  name: string;
  /** Cron expression (seconds field allowed). */
  schedule: string;
  /** What the job is called in error logs, e.g. "reaper tick". */
  label: string;
  log?: Logger | undefined;
  /** One pass. */
  run: () => Promise<T>;
}

/**
 * A job run by node-cron and on demand: passes never overlap (a manual call queues behind the pass
 * under way), a failed pass is logged and the schedule goes on, and stop() waits for the last pass.
 * The reaper and the audit retention job share it.
 */
export function createPeriodicJob<T>(opts: PeriodicJobOptions<T>) {
  const { log } = opts;
  let chain: Promise<unknown> = Promise.resolve();
  let task: ScheduledTask | undefined;

  function runNow(): Promise<T> {
    const run = chain.then(opts.run);
    chain = run.catch(() => undefined);
    return run;
  }

  const cronLogger = {
    info: (m: string) => log?.debug({ component: "node-cron" }, m),
    // With noOverlap a blocked run is expected whenever a pass takes longer than the interval.
    warn: (m: string) => log?.debug({ component: "node-cron" }, m),
    error: (m: string | Error, err?: Error) => log?.error({ component: "node-cron", err: err ?? m }, `${opts.label} task error`),
    debug: (m: string | Error) => log?.trace({ component: "node-cron" }, String(m)),
  };

  return {
    runNow,
    start(): void {
      if (task) return;
      task = cron.schedule(
        opts.schedule,
        async () => {
          await runNow().catch((err: unknown) => log?.error({ err }, `${opts.label} failed`));
        },
        { name: opts.name, noOverlap: true, logger: cronLogger, suppressMissedWarning: true },
      );
    },
    /** No new passes; resolves once the pass under way (if any) has finished. */
    async stop(): Promise<void> {
      if (task) {
        await task.stop();
        await task.destroy();
        task = undefined;
      }
      await chain;
    },
  };
}
