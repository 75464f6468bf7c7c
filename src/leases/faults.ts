import type { Logger } from "pino";
import type { Config, FAULT_POINTS } from "../config.js";

export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Called at each step of create and revoke; kills the process at the configured step (crash tests). */
export type FaultInjector = (point: FaultPoint) => void;

export const noFaults: FaultInjector = () => undefined;

/**
 * LEASEHOLD_FAULT=<point> makes this process SIGKILL itself when it reaches that step, exactly
 * as a power cut would stop it: no finally blocks, no graceful close. It is honoured only under
 * NODE_ENV=test or LEASEHOLD_ENABLE_FAULT_INJECTION=1, so a stray variable in production is ignored.
 */
export function createFaultInjector(
  config: Pick<Config, "LEASEHOLD_FAULT" | "LEASEHOLD_ENABLE_FAULT_INJECTION">,
  log?: Logger,
  env: NodeJS.ProcessEnv = process.env,
): FaultInjector {
  const point = config.LEASEHOLD_FAULT;
  if (!point) return noFaults;
  if (env.NODE_ENV !== "test" && !config.LEASEHOLD_ENABLE_FAULT_INJECTION) {
    log?.warn({ point }, "LEASEHOLD_FAULT is ignored: fault injection is only enabled in tests");
    return noFaults;
  }
  log?.warn({ point }, "fault injection enabled: this process will kill itself at that step");
  return (at) => {
    if (at !== point) return;
    process.stderr.write(`leasehold: fault injection: SIGKILL at ${at}\n`);
    process.kill(process.pid, "SIGKILL");
  };
}
