import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phaseFixture, type PhaseFixture } from "./fixtures.js";

let f: PhaseFixture;
/** A user with Development and Staging, not Production. */
let twoEnvUser: string;

async function put(env: string, secrets: unknown[], appId?: string) {
  const url = appId ? `/v1/secrets/?app_id=${appId}&env=${env}` : f.url(env);
  const res = await f.t.http.post(url).set("Authorization", f.owner.auth).send({ secrets });
  expect(res.status).toBe(200);
  return res.body as { id: string; key: string; value: string }[];
}

beforeAll(async () => {
  f = await phaseFixture();
  const c = f.t.server.container;
  const other = await c.appService.createApp("Other", ["Prod"]);
  const u = await c.identityService.createUser({ email: "two@example.com", role: "DEVELOPER" });
  await c.identityService.grantAccess({ kind: "USER", id: u.id }, f.appId, ["Development", "Staging"]);
  twoEnvUser = `Bearer User ${(await c.identityService.issueToken({ kind: "USER", id: u.id }, "pat")).token}`;

  await put("Development", [
    { key: "BASE", value: "base" },
    { key: "STRIPE", value: "sk", path: "/backend/payments" },
    { key: "FKEY", value: "fv", path: "/folder" },
  ]);
  await put("Staging", [
    { key: "SKEY", value: "staging-val" },
    { key: "FE", value: "fe-val", path: "/frontend" },
    { key: "SLOCAL", value: "[${SKEY}]" },
    { key: "SREF", value: "${production.PKEY}" },
  ]);
  await put("Production", [{ key: "PKEY", value: "prod-val" }]);
  await put("Prod", [{ key: "OKEY", value: "other" }, { key: "DK", value: "dk", path: "/deep/path" }], other.id);
});
afterAll(async () => f?.close());

/** Creates one Development secret with `value` and reads it back as `auth`. */
let n = 0;
async function resolved(value: string, auth = f.owner.auth): Promise<string> {
  const key = `R${++n}`;
  await put("Development", [{ key, value }]);
  const res = await f.t.http.get(f.url("Development", { key })).set("Authorization", auth);
  expect(res.status).toBe(200);
  return res.body[0].value;
}

describe("reference forms (notes 4)", () => {
  it.each([
    ["${BASE}", "base"],
    ["x-${BASE}-${BASE}-y", "x-base-base-y"],
    ["${/backend/payments/STRIPE}", "sk"],
    ["${backend/payments/STRIPE}", "sk"],
    ["${folder/FKEY}", "fv"],
    ["${/folder/FKEY}", "fv"],
    ["${staging.SKEY}", "staging-val"],
    ["${STAGING.SKEY}", "staging-val"],
    ["${staging./frontend/FE}", "fe-val"],
    ["${Staging.frontend/FE}", "fe-val"],
    ["${other::prod.OKEY}", "other"],
    ["${OTHER::PROD./deep/path/DK}", "dk"],
    ["${staging.SLOCAL}", "[staging-val]"],
  ])("%s → %s", async (value, expected) => {
    expect(await resolved(value)).toBe(expected);
  });

  it.each([
    ["${NOPE}"],
    ["${base}"], // key names are case-sensitive
    ["${/backend/STRIPE}"],
    ["${staging.NOPE}"],
    ["${nowhere.BASE}"],
    ["${nope::prod.OKEY}"],
    ["${other::nope.OKEY}"],
    ["${{BASE}}"],
    ["${.BASE}"],
    ["${BASE"],
    ["$BASE"],
  ])("%s is left verbatim", async (value) => {
    expect(await resolved(value)).toBe(value);
  });

  it("a missing reference does not stop the others", async () => {
    expect(await resolved("${NOPE}/${BASE}")).toBe("${NOPE}/base");
  });

  it("references resolve recursively and follow the referenced secret's own environment", async () => {
    await put("Development", [{ key: "CHAIN_B", value: "${BASE}-b" }, { key: "CHAIN_A", value: "${CHAIN_B}-a" }]);
    expect(await resolved("${CHAIN_A}")).toBe("base-b-a");
  });

  it("POST and PUT responses are resolved too, and the stored value keeps the reference", async () => {
    const [s] = await put("Development", [{ key: "LIVE", value: "${BASE}!" }]);
    expect(s!.value).toBe("base!");
    const res = await f.t.http.put(f.url()).set("Authorization", f.owner.auth).send({ secrets: [{ id: s!.id, value: "${folder/FKEY}?" }] });
    expect(res.body[0].value).toBe("fv?");
    const [base] = (await f.t.http.get(f.url("Development", { key: "BASE" })).set("Authorization", f.owner.auth)).body;
    await f.t.http.put(f.url()).set("Authorization", f.owner.auth).send({ secrets: [{ id: base.id, value: "changed" }] });
    expect(await resolved("${BASE}")).toBe("changed");
    await f.t.http.put(f.url()).set("Authorization", f.owner.auth).send({ secrets: [{ id: base.id, value: "base" }] });
  });
});

describe("cycles and depth", () => {
  it("A=${B}, B=${A}: each is left with the reference that closes the cycle", async () => {
    await put("Development", [{ key: "CYC_A", value: "${CYC_B}" }, { key: "CYC_B", value: "${CYC_A}" }, { key: "SELF", value: "me:${SELF}" }]);
    const res = await f.t.http.get(f.url()).set("Authorization", f.owner.auth);
    expect(res.status).toBe(200);
    const byKey = Object.fromEntries(res.body.map((s: { key: string; value: string }) => [s.key, s.value]));
    expect(byKey["CYC_A"]).toBe("${CYC_A}");
    expect(byKey["CYC_B"]).toBe("${CYC_B}");
    expect(byKey["SELF"]).toBe("me:${SELF}");
  });

  it("at most 25 levels: a chain of 25 references resolves, the 26th stays", async () => {
    const chain = Array.from({ length: 27 }, (_, i) => ({ key: `L${i}`, value: i === 26 ? "end" : `\${L${i + 1}}` }));
    await put("Development", chain);
    const get = async (key: string) => (await f.t.http.get(f.url("Development", { key })).set("Authorization", f.owner.auth)).body[0].value;
    expect(await get("L1")).toBe("end");
    expect(await get("L0")).toBe("${L26}");
  });
});

describe("access to referenced environments", () => {
  it("a caller without access to the referenced environment gets the value as is", async () => {
    expect(await resolved("${staging.SKEY}", f.sa.auth)).toBe("${staging.SKEY}");
    expect(await resolved("${other::prod.OKEY}", f.sa.auth)).toBe("${other::prod.OKEY}");
  });

  it("resolution stops at the first forbidden reference; earlier ones stay resolved", async () => {
    expect(await resolved("${BASE} ${staging.SKEY} ${BASE}", f.sa.auth)).toBe("base ${staging.SKEY} ${BASE}");
    expect(await resolved("${BASE} ${staging.SKEY} ${BASE}", twoEnvUser)).toBe("base staging-val base");
  });

  it("access is checked at every hop, for the caller", async () => {
    expect(await resolved("${staging.SREF}", twoEnvUser)).toBe("${production.PKEY}");
    expect(await resolved("${staging.SREF}", f.owner.auth)).toBe("prod-val");
  });
});
