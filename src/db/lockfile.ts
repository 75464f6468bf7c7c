import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";

export class DataDirLockedError extends Error {
  constructor(path: string, pid: number) {
    super(
      `The embedded database in ${path} is in use by process ${pid}. ` +
        `Stop that process first: two processes on one embedded database silently lose writes.`,
    );
    this.name = "DataDirLockedError";
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // a previous life of this pid (e.g. pid 1 in a container)
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * An exclusive pid lock (O_EXCL create). A lock left by a process that died (SIGKILL, power loss)
 * is detected by its pid no longer running and taken over, so a crash never needs a manual clean-up.
 * proper-lockfile was considered; its mtime-based staleness refuses a restart for ~10 s after a crash.
 */
export function acquirePidLock(path: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new DataDirLockedError(path, pid);
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`could not acquire ${path}`);
}
