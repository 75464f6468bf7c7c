import { expect } from "vitest";
import { bearer, createApp } from "../management/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/paths.js";
import { finished, type CliResult } from "./cli.js";

const CLI = join(PROJECT_ROOT, "src", "cli", "index.ts");

/**
 * `node --import tsx src/cli/index.ts <args>`: one process (signals reach the CLI itself, no tsx
 * relay), with only PATH, HOME and the given environment, stdin closed.
 */
export function spawnClient(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export const runClient = (args: string[], env: Record<string, string>) => finished(spawnClient(args, env));

export interface IssuedToken {
  token: string;
  phase_token: string;
}

export interface ClientFixture {
  t: TestServer;
  appId: string;
  /** A service account with access to Development only, its token issued by the management API. */
  sa: { id: string } & IssuedToken;
  /** Creates secrets in an environment as the Owner (Phase's POST /v1/secrets/). */
  post(secrets: Record<string, unknown>[], env?: string): Promise<void>;
  /** The CLI's environment for this server and the service account, plus `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Runs the CLI as a child process against this server, as the service account unless `env` says otherwise. */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  close(): Promise<void>;
}

/** A server, an app (Development, Staging, Production) and a CI service account, all made through the API. */
export async function clientFixture(): Promise<ClientFixture> {
  const t = await startTestServer();
  const owner = bearer(t.ownerToken);
  const app = await createApp(t, "cli-app", ["Development", "Staging", "Production"]);
  const sa = await t.http.post("/v1/service-accounts/").set(owner).send({ name: "ci" });
  expect(sa.status).toBe(201);
  const access = await t.http.post(`/v1/service-accounts/${sa.body.id}/access/`).set(owner).send({ app_id: app.id, environments: ["Development"] });
  expect(access.status).toBe(200);
  const token = await t.http.post(`/v1/service-accounts/${sa.body.id}/tokens/`).set(owner).send({ name: "github-actions" });
  expect(token.status).toBe(201);

  return {
    t,
    appId: app.id,
    sa: { id: sa.body.id as string, token: token.body.token as string, phase_token: token.body.phase_token as string },
    async post(secrets, env = "Development") {
      const res = await t.http
        .post(`/v1/secrets/?app_id=${app.id}&env=${env}`)
        .set("Authorization", `Bearer User ${t.ownerToken}`)
        .send({ secrets });
      expect(res.status, res.text).toBe(200);
    },
    env: (extra = {}) => ({ LEASEHOLD_HOST: t.url, LEASEHOLD_TOKEN: token.body.token as string, ...extra }),
    cli(args, env = {}) {
      return runClient(args, { LEASEHOLD_HOST: t.url, LEASEHOLD_TOKEN: token.body.token as string, ...env });
    },
    close: () => t.close(),
  };
}

/** Asserts a failed run: its exit code and exactly one `leasehold: …` line on stderr, nothing on stdout. */
export function expectFailure(r: CliResult, code: number, message: string): void {
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code, stdout: "", stderr: `leasehold: ${message}\n` });
}
