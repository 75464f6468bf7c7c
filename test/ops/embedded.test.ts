import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDataDir, startEmbedded, type EmbeddedServer } from "../embedded/support.js";
import { parseMetrics, value } from "./prometheus.js";

/** The readiness and metrics queries on the embedded database (PGlite), not only on PostgreSQL. */
describe("health and metrics on the embedded database", () => {
  let s: EmbeddedServer;
  let dir: string;
  beforeAll(async () => {
    dir = await freshDataDir();
    s = await startEmbedded(dir, { METRICS_ENABLED: "true", LEASEHOLD_REAPER_SCHEDULE: "off" });
  });
  afterAll(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("readyz is ready and /metrics counts leases and the backlog", async () => {
    const ready = await fetch(`${s.server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", migrations: "ok", master_key: "ok" } });
    const res = await fetch(`${s.server.url}/metrics`);
    expect(res.status).toBe(200);
    const samples = parseMetrics(await res.text());
    expect(value(samples, "leasehold_leases", { state: "active" })).toBe(0);
    expect(value(samples, "leasehold_reaper_backlog")).toBe(0);
    expect(value(samples, "leasehold_http_request_duration_seconds_count", { method: "GET", route: "/readyz", status_code: "200" })).toBe(1);
  });
});
