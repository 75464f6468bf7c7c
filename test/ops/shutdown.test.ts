import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { testMasterKey } from "../support/server.js";
import { connectionRefused, holdRequest, startServeProcess, type ServeProcess } from "./serve-process.js";

/** Polls a condition (a state change in another process, not a clock): true once it holds. */
async function eventually(check: () => Promise<boolean>, tries = 200): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await sleep(25);
  }
  return false;
}

describe("graceful shutdown of `leasehold serve` (a real process, SIGTERM)", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  });

  async function start(): Promise<{ s: ServeProcess; db: TestDatabase; owner: Record<string, string>; appId: string; envId: string }> {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const token = randomBytes(32).toString("hex");
    const s = await startServeProcess({
      DATABASE_URL: db.url,
      LEASEHOLD_MASTER_KEY: testMasterKey(),
      LEASEHOLD_BOOTSTRAP_TOKEN: token,
      // Nothing reaches the audit table before shutdown unless the shutdown flushes it.
      AUDIT_FLUSH_INTERVAL_MS: "3600000",
    });
    cleanup.push(async () => {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
      await s.exited;
    });
    const owner = { authorization: `Bearer User ${token}` };
    const app = await fetch(`${s.url}/v1/apps/`, {
      method: "POST",
      headers: { ...owner, "content-type": "application/json" },
      body: JSON.stringify({ name: "shutdown", environments: ["Development"] }),
    });
    expect(app.status).toBe(201);
    const body = (await app.json()) as { id: string; environments: { id: string }[] };
    return { s, db, owner, appId: body.id, envId: body.environments[0]!.id };
  }

  it("SIGTERM: refuses new connections, finishes the request under way (200), releases claims, flushes the audit buffer, exits 0", { timeout: 120_000 }, async () => {
    const { s, db, owner, appId, envId } = await start();
    const secrets = `/v1/secrets/?app_id=${appId}&env=Development`;

    // A write and a read whose audit events wait in the buffer.
    const before = { ...owner, "user-agent": "before-sigterm/1.0" };
    const early = await fetch(s.url + secrets, {
      method: "POST",
      headers: { ...before, "content-type": "application/json" },
      body: JSON.stringify({ secrets: [{ key: "EARLY", value: "1" }] }),
    });
    expect(early.status).toBe(200);
    const read = await fetch(s.url + secrets, { headers: before });
    expect(read.status).toBe(200);
    // A lease this process holds a claim on (as if its reaper were between claiming and revoking it).
    const [lease] = await db.query<{ id: string }>(
      `INSERT INTO leases (id, environment_id, provider, name, status, revoke_reason, ttl_seconds, created_at, expires_at,
                           upstream_identity, state_cipher, claimed_by, claimed_until, next_attempt_at, updated_at)
       VALUES (gen_random_uuid(), $1, 'postgresql', 'held', 'REVOKING', 'manual', 60, now(), now() + interval '1 minute',
               'nobody', '\\x00', $2, now() + interval '1 hour', now() + interval '1 hour', now())
       RETURNING id`,
      [envId, s.instance],
    );

    const held = await holdRequest(s.url, secrets, { ...owner, "user-agent": "in-flight/1.0" }, { secrets: [{ key: "LATE", value: "arrived-during-shutdown" }] });
    s.child.kill("SIGTERM");
    await s.logLine("shutting down gracefully");
    // The listener is closed while the request is still open (its body is not complete).
    expect(await eventually(() => connectionRefused(s.port))).toBe(true);
    expect(s.child.exitCode).toBeNull();

    const done = await held.finish();
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toEqual([expect.objectContaining({ key: "LATE", value: "arrived-during-shutdown" })]);

    const exit = await s.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code, exit.stderr).toBe(0);
    expect(s.logs.filter((l) => Number(l["level"]) >= 50)).toEqual([]); // no error or fatal line

    // The secrets and every audit event (written only by the shutdown flush) are in the database.
    expect(await db.query("SELECT count(*)::int AS n FROM secrets WHERE deleted_at IS NULL")).toEqual([{ n: 2 }]);
    expect(await db.query("SELECT event_type, user_agent FROM audit_events WHERE event_type LIKE 'secret.%' ORDER BY id")).toEqual([
      { event_type: "secret.create", user_agent: "before-sigterm/1.0" },
      { event_type: "secret.read", user_agent: "before-sigterm/1.0" },
      { event_type: "secret.create", user_agent: "in-flight/1.0" },
    ]);
    // The claim was handed back: due now, for any other instance.
    const [row] = await db.query<{ claimed_by: string | null; due: boolean }>(
      "SELECT claimed_by, next_attempt_at <= now() AS due FROM leases WHERE id = $1",
      [lease!.id],
    );
    expect(row).toEqual({ claimed_by: null, due: true });
  });

  it("a second SIGTERM while shutdown waits on a hung request exits at once, non-zero", { timeout: 120_000 }, async () => {
    const { s, owner, appId } = await start();
    const held = await holdRequest(s.url, `/v1/secrets/?app_id=${appId}&env=Development`, owner, { secrets: [{ key: "NEVER", value: "finished" }] });
    s.child.kill("SIGTERM");
    await s.logLine("shutting down gracefully");
    expect(await eventually(() => connectionRefused(s.port))).toBe(true);
    expect(s.child.exitCode).toBeNull(); // still waiting for the request

    s.child.kill("SIGTERM");
    const exit = await s.exited;
    expect(exit.code).toBe(130);
    expect(s.logs.map((l) => l["msg"])).toContain("second signal: exiting now");
    expect(await held.outcome).toBeInstanceOf(Error); // the connection died with the process
  });
});
