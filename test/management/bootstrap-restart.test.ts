import { randomBytes } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startTestServer, testMasterKey } from "../support/server.js";

let db: TestDatabase | undefined;
afterAll(async () => db?.drop());

it("a LEASEHOLD_BOOTSTRAP_TOKEN given once an Owner exists is ignored, loudly, and never becomes a token", async () => {
  db = await createTestDatabase();
  const masterKey = testMasterKey();
  const first = await startTestServer({ db, masterKey });
  await first.close();

  const late = randomBytes(32).toString("hex");
  const second = await startTestServer({ db, masterKey, env: { LEASEHOLD_BOOTSTRAP_TOKEN: late } });
  try {
    const warnings = second.logs().map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);
    expect(warnings.map((w) => w.msg)).toContain(
      "LEASEHOLD_BOOTSTRAP_TOKEN is set but an Owner already exists: it was ignored (it is used only by the first start); remove it from the environment",
    );
    expect(second.logs().join("\n")).not.toContain(late);
    const res = await second.http.get("/v1/apps/").set("Authorization", `Bearer ${late}`);
    expect(res.status).toBe(401);
    const owners = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE role = 'OWNER'");
    expect(owners).toEqual([{ n: 1 }]);
  } finally {
    await second.close();
  }
});
