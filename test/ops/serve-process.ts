import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/paths.js";

/**
 * `leasehold serve` as its own process, the way a container runs it: `node <cli> serve` with node
 * itself as the process (here with tsx's loader, `node --import tsx src/cli/index.ts`), so signals
 * reach the server directly, as with `node dist/src/cli/index.js serve`. No npm or tsx wrapper in
 * between to forward (or not forward) them.
 */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** The id this process writes into leases.claimed_by. */
  instance: string;
  /** Every JSON log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line whose msg is `msg` (already seen or still to come). */
  logLine(msg: string): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export async function startServeProcess(env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "src", "cli", "index.ts"), "serve"], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  const logs: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (!line.startsWith("{")) return;
    const entry = JSON.parse(line) as Record<string, unknown>;
    logs.push(entry);
    for (const w of waiters.filter((w) => w.msg === entry["msg"])) w.resolve(entry);
  });
  const logLine = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = logs.find((l) => l["msg"] === msg);
      if (seen) return resolve(seen);
      waiters.push({ msg, resolve });
      void exited.then((r) => reject(new Error(`serve exited (${r.code}) before logging "${msg}": ${r.stderr}`)));
    });
  const listening = await logLine("leasehold is listening");
  const url = String(listening["url"]);
  return { child, url, port: Number(new URL(url).port), instance: String(listening["instance"]), logs, logLine, exited };
}

/** Whether a new TCP connection to the port is refused right now. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", agent: false }, (res) => {
      res.resume();
      resolve(false);
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

export interface HeldRequest {
  /** Sends the rest of the body; resolves with the response. */
  finish(): Promise<{ status: number; body: string }>;
  /** Resolves with the response or the connection error, whatever happens to the request. */
  outcome: Promise<{ status: number; body: string } | Error>;
}

/**
 * A JSON request held open mid-body. It resolves once the server has dispatched it to its route
 * (`Expect: 100-continue`: Node answers 100 when it hands the request to the application), and
 * the first half of the body has been sent.
 */
export function holdRequest(url: string, path: string, headers: Record<string, string>, body: unknown): Promise<HeldRequest> {
  const text = Buffer.from(JSON.stringify(body));
  const half = Math.floor(text.length / 2);
  return new Promise((resolveHeld, rejectHeld) => {
    const req = http.request(new URL(path, url), {
      method: "POST",
      agent: false,
      headers: { ...headers, "content-type": "application/json", "content-length": String(text.length), expect: "100-continue" },
    });
    const outcome = new Promise<{ status: number; body: string } | Error>((resolve) => {
      req.on("response", (res) => {
        let b = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (b += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      req.on("error", (e) => resolve(e));
    });
    req.on("continue", () => {
      req.write(text.subarray(0, half));
      resolveHeld({
        outcome,
        finish: async () => {
          req.end(text.subarray(half));
          const r = await outcome;
          if (r instanceof Error) throw r;
          return r;
        },
      });
    });
    req.on("error", rejectHeld);
    req.flushHeaders();
  });
}
