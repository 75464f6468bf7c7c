import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

export interface ServerProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** SIGTERM, then wait for the exit (the CPU profile, if any, is written then). */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, "close");
  return port;
}

/**
 * Starts `node [nodeArgs] --import tsx <script> [args]` with `env` on a free port and waits until
 * GET `readyPath` answers. Output is kept and shown if the process fails to start.
 */
export async function startProcess(opts: {
  name: string;
  script: string;
  args?: string[];
  nodeArgs?: string[];
  env: Record<string, string>;
  readyPath?: string;
}): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), "--import", "tsx", opts.script, ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env, HOST: "127.0.0.1", PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, "exit");

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${opts.name} exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(url + (opts.readyPath ?? "/"));
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${opts.name} did not start within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    name: opts.name,
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
