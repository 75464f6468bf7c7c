import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export class DataDirLockedError extends Error {
  constructor(path: string, pid: number) {
    super(
      `The embedded database in ${path} is in use by process ${pid}. ` +
        `Stop that process first: two processes on one embedded database silently lose writes.`,
    );
    this.name = "DataDirLockedError";
  }
}

/** Locks this process holds, so a second open of the same data dir in one process is refused too. */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // a previous life of this pid (e.g. pid 1 in a container)
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

type LockState = { exists: false } | { exists: true; pid: number | undefined };

function readLock(path: string): LockState {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return { exists: true, pid: Number.isInteger(pid) && pid > 0 ? pid : undefined };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { exists: false };
    throw e;
  }
}

const readPid = (path: string) => {
  const s = readLock(path);
  return s.exists ? s.pid : undefined;
};

/** Our pid in a private file next to `path`, fully written before it is linked or renamed into place. */
function writeTemp(path: string): string {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, String(process.pid), { mode: 0o600, flag: "wx" });
  return tmp;
}

/** Creates the lock atomically with its content (link fails if it exists), so no one ever reads it half-written. */
function createExclusive(path: string): boolean {
  const tmp = writeTemp(path);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Takes over a lock whose owner is dead. Two processes may find the same stale lock at once; a
 * plain "remove, then create" lets the slower one delete the faster one's fresh lock. So the
 * takeover itself is guarded by `<lock>.takeover` (created exclusively): only its holder re-checks the
 * lock and atomically replaces it with its own. A takeover file left by a process that died within those
 * few lines is itself stale (its pid is dead) and removed on the next attempt. (Remaining window: a
 * takeover that crashes inside those lines while two other processes start at the same moment.)
 */
function takeOverStale(path: string, stalePid: number | undefined): boolean {
  const guard = `${path}.takeover`;
  if (!createExclusive(guard)) {
    const holder = readPid(guard);
    if (holder !== undefined && alive(holder)) return false; // someone else is taking over right now
    rmSync(guard, { force: true });
    return false; // retry from the top
  }
  try {
    // Re-check under the guard: the lock may have been released (then create it normally) or
    // taken by a live process since we looked.
    const current = readLock(path);
    if (!current.exists || current.pid !== stalePid || (current.pid !== undefined && alive(current.pid))) return false;
    renameSync(writeTemp(path), path); // atomic replace
    return true;
  } finally {
    rmSync(guard, { force: true });
  }
}

/**
 * An exclusive pid lock, created atomically with its content (a hard link of a fully written file,
 * which fails if the lock exists). A lock left by a process that died (SIGKILL, power loss)
 * is detected by its pid no longer running and taken over, so a crash never needs a manual clean-up.
 * proper-lockfile was considered; its mtime-based staleness refuses a restart for ~10 s after a crash.
 * Limit: a pid reused by an unrelated live process keeps the lock held; remove the file by hand then.
 */
export function acquirePidLock(lockPath: string): () => void {
  const path = resolve(lockPath);
  if (heldHere.has(path)) throw new DataDirLockedError(path, process.pid);
  for (let attempt = 0; attempt < 5; attempt++) {
    let acquired = createExclusive(path);
    if (!acquired) {
      const state = readLock(path);
      if (!state.exists) continue; // released meanwhile: create it
      if (state.pid !== undefined && alive(state.pid)) throw new DataDirLockedError(path, state.pid);
      acquired = takeOverStale(path, state.pid); // dead owner, or garbage left by a crash
    }
    if (acquired) {
      heldHere.add(path);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        heldHere.delete(path);
        // Only remove the file if it is still ours (never a successor's lock).
        if (readPid(path) === process.pid) rmSync(path, { force: true });
      };
    }
  }
  const pid = readPid(path);
  throw pid !== undefined ? new DataDirLockedError(path, pid) : new Error(`could not acquire ${path}`);
}
