import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquirePidLock, DataDirLockedError } from "../../src/db/lockfile.js";
import { freshDataDir, runFixture, spawnFixture, startEmbedded, waitForLine, type EmbeddedServer } from "./support.js";

/** The pid of a process that has exited (and, this soon, not been reused). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("data directory lock", { timeout: 60_000 }, () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "leasehold-lock-"));
    cleanup.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };

  describe("acquirePidLock", () => {
    it("writes our pid, refuses a second holder in this process, and removes the file on release", () => {
      const path = join(tempDir(), "x.lock");
      const release = acquirePidLock(path);
      expect(readFileSync(path, "utf8")).toBe(String(process.pid));
      expect(() => acquirePidLock(path)).toThrow(DataDirLockedError);
      release();
      expect(existsSync(path)).toBe(false);
      acquirePidLock(path)(); // free again
    });

    it("refuses a lock held by a live process, naming its pid", () => {
      const path = join(tempDir(), "x.lock");
      writeFileSync(path, "1"); // pid 1 is always alive
      expect(() => acquirePidLock(path)).toThrow(
        `The embedded database in ${path} is in use by process 1. Stop that process first: two processes on one embedded database silently lose writes.`,
      );
      expect(readFileSync(path, "utf8")).toBe("1");
    });

    it("takes over a lock whose process is dead, or whose content is garbage", () => {
      for (const content of [String(deadPid()), "not a pid", ""]) {
        const path = join(tempDir(), "x.lock");
        writeFileSync(path, content);
        const release = acquirePidLock(path);
        expect(readFileSync(path, "utf8")).toBe(String(process.pid));
        release();
      }
    });

    it("clears a takeover guard left by a dead process", () => {
      const path = join(tempDir(), "x.lock");
      writeFileSync(path, String(deadPid()));
      writeFileSync(`${path}.takeover`, String(deadPid()));
      const release = acquirePidLock(path);
      expect(readFileSync(path, "utf8")).toBe(String(process.pid));
      expect(existsSync(`${path}.takeover`)).toBe(false);
      release();
    });

    it("release never deletes a successor's lock", () => {
      const path = join(tempDir(), "x.lock");
      const release = acquirePidLock(path);
      writeFileSync(path, "1"); // as if another process had taken it over
      release();
      expect(readFileSync(path, "utf8")).toBe("1");
    });
  });

  describe("across processes", () => {
    it("several processes racing for one stale lock: exactly one gets it", async () => {
      const path = join(tempDir(), "x.lock");
      writeFileSync(path, String(deadPid()));
      const children = Array.from({ length: 4 }, () => spawnFixture("hold-lock.ts", [path]));
      for (const c of children) cleanup.push(() => void c.kill("SIGKILL"));
      const outcomes = await Promise.all(children.map((c) => waitForLine(c, /^(got \d+|refused \w+)$/).catch((e: Error) => e.message)));
      const winners = outcomes.filter((o) => o.startsWith("got "));
      expect(winners).toHaveLength(1);
      expect(outcomes.filter((o) => o === "refused DataDirLockedError")).toHaveLength(3);
      expect(readFileSync(path, "utf8")).toBe(winners[0]!.slice(4));
    });

    async function embeddedDir(): Promise<string> {
      const d = await freshDataDir();
      cleanup.push(() => rmSync(d, { recursive: true, force: true }));
      return d;
    }
    const startTracked = async (dir: string): Promise<EmbeddedServer> => {
      const s = await startEmbedded(dir);
      cleanup.push(() => s.close());
      return s;
    };

    it("a second process opening a running server's directory is refused with DataDirLockedError", async () => {
      const dir = await embeddedDir();
      await startTracked(dir);
      const r = await runFixture("open-embedded.ts", [dir]);
      expect(r.code).toBe(3);
      expect(r.stderr.trim()).toBe(
        `DataDirLockedError: The embedded database in ${join(dir, "leasehold.lock")} is in use by process ${process.pid}. ` +
          "Stop that process first: two processes on one embedded database silently lose writes.",
      );
    });

    it("a server cannot start while another process holds the directory, and takes over once that process is killed", async () => {
      const dir = await embeddedDir();
      const seeded = await startTracked(dir);
      const app = await seeded.server.container.appService.createApp("kept");
      await seeded.close();

      const holder = spawnFixture("open-embedded.ts", [dir]);
      cleanup.push(() => void holder.kill("SIGKILL"));
      const line = await waitForLine(holder, /^opened \d+$/);
      expect(line).toBe(`opened ${holder.pid}`);
      await expect(startEmbedded(dir)).rejects.toThrow(
        `The embedded database in ${join(dir, "leasehold.lock")} is in use by process ${holder.pid}.`,
      );

      holder.kill("SIGKILL"); // a crash: the lock file stays behind with a dead pid
      await new Promise((r) => holder.once("exit", r));
      expect(readFileSync(join(dir, "leasehold.lock"), "utf8")).toBe(String(holder.pid));
      const s = await startTracked(dir);
      expect(readFileSync(join(dir, "leasehold.lock"), "utf8")).toBe(String(process.pid));
      expect((await s.server.container.appService.getApp(app.id)).name).toBe("kept");
    });
  });
});
