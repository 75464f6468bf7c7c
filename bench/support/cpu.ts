import { readdirSync, readFileSync } from "node:fs";

/** CPU seconds (user + system) used so far: one process, all PostgreSQL processes, and this process. */
export interface CpuSample {
  server: number;
  /** Of `server`, the part spent in the kernel (system calls: socket reads and writes). */
  serverSystem: number;
  /** CPU seconds of each PostgreSQL process alive at the sample, by pid. */
  postgres: Map<string, number>;
  client: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function stat(pid: number | string): { comm: string; seconds: number; system: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
    return { comm, seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/**
 * Linux only (reads /proc); null elsewhere. The PostgreSQL figure counts every postgres process on
 * the machine, so other databases' work in the same window shows up in it.
 */
export function sampleCpu(serverPid: number): CpuSample | null {
  const server = stat(serverPid);
  if (!server) return null;
  const postgres = new Map<string, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (s && (s.comm === "postgres" || s.comm.startsWith("postgres:"))) postgres.set(entry, s.seconds);
  }
  const { user, system } = process.cpuUsage();
  return { server: server.seconds, serverSystem: server.system, postgres, client: (user + system) / 1e6 };
}

/**
 * PostgreSQL CPU between two samples, process by process: a backend that started in between
 * counts from zero, and one that exited (an idle pool connection closing) is left out rather than
 * subtracting its whole lifetime's CPU from the sum.
 */
function postgresDelta(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** Milliseconds of CPU per request between two samples. */
export function cpuPerRequest(before: CpuSample | null, after: CpuSample | null, requests: number) {
  if (!before || !after || requests === 0) return null;
  const ms = (a: number, b: number) => Number((((b - a) * 1000) / requests).toFixed(3));
  return {
    serverMs: ms(before.server, after.server),
    serverSystemMs: ms(before.serverSystem, after.serverSystem),
    postgresMs: ms(0, postgresDelta(before.postgres, after.postgres)),
    clientMs: ms(before.client, after.client),
  };
}
