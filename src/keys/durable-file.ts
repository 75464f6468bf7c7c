import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";

/** Writes a small file (mode 0600) and fsyncs it, so it survives a crash right after this returns. */
export function writeFileDurable(path: string, content: string, flag: "w" | "wx"): void {
  const fd = openSync(path, flag, 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename or create in `dir` durable. Some platforms cannot fsync a directory; that is not fatal. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // EISDIR/EPERM on platforms without directory fsync (Windows): the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
