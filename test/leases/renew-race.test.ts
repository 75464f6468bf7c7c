import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresProvider } from "../../src/providers/postgresql.js";
import type { Provider } from "../../src/providers/provider.js";
import { createPgDefinition, META, startLeaseHarness, type LeaseHarness } from "./helpers.js";

/**
 * Two renewals of one lease at once: the one whose row update loses may have moved VALID UNTIL
 * after the winner did, to its own shorter expiry. The loser puts the winner's expiry back
 * upstream before it answers "try again", so the role never dies before its lease.
 */
describe("concurrent renewals of one lease", () => {
  let h: LeaseHarness;
  const real = createPostgresProvider();
  /** The renew call to this expiry (the short renewal's) waits here until the long one has committed. */
  let gate: Promise<void> = Promise.resolve();
  let gatedExpiry = 0;
  const gated: Provider = {
    ...(real as unknown as Provider),
    id: "gated-pg",
    async renew(config, revocation, expiresAt) {
      if (expiresAt.getTime() === gatedExpiry) await gate;
      return real.renew!(config as never, revocation, expiresAt);
    },
  };

  beforeAll(async () => {
    h = await startLeaseHarness({ providers: [gated] });
  });
  afterAll(async () => h?.close());

  const validUntil = async (role: string) =>
    (await h.t.db.query<{ v: Date }>("SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1", [role]))[0]!.v;

  it("the losing renewal restores the winner's VALID UNTIL", async () => {
    const def = await createPgDefinition(h, { provider: "gated-pg" });
    const { lease, credentials } = await h.c.leases.createLease(h.owner, META, { secretId: def.id, ttl: 600 });
    const role = credentials.find((c) => c.key === "DB_USERNAME")!.value;
    const buffer = (await validUntil(role)).getTime() - lease.expiresAt.getTime();

    let open!: () => void;
    gate = new Promise((r) => (open = r));
    gatedExpiry = lease.expiresAt.getTime() + 60_000;
    // Both read the lease first; the short one's upstream call is held until the long one's row update has won.
    const long = h.c.leases.renewLease(h.owner, META, { leaseId: lease.id, ttl: 3000 });
    const short = h.c.leases.renewLease(h.owner, META, { leaseId: lease.id, ttl: 60 });
    const won = await long;
    open();
    await expect(short).rejects.toThrow("The lease changed while it was being renewed; try again.");

    expect(won.expiresAt.getTime()).toBe(lease.expiresAt.getTime() + 3_000_000);
    expect((await validUntil(role)).getTime()).toBe(won.expiresAt.getTime() + buffer);
  });
});
