import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/providers/provider.js";
import { LOWER_ALNUM, randomString } from "../../src/providers/random.js";
import { connectionTestFailure, REDACTED, scrub, toProviderError } from "../../src/providers/scrub.js";
import { placeholders, renderTemplate, templateIssues } from "../../src/providers/templates.js";

describe("provider helpers", () => {
  it("renders {{var}} and {{ var }}, and refuses a variable without a value", () => {
    expect(renderTemplate(`CREATE ROLE "{{name}}" PASSWORD '{{ password }}'`, { name: "v_a", password: "pw" })).toBe(
      `CREATE ROLE "v_a" PASSWORD 'pw'`,
    );
    expect(() => renderTemplate("{{name}} {{other}}", { name: "x" })).toThrow("Template variable {{other}} has no value here.");
    expect(placeholders("{{a}} {{ b }} {{a}} {not}")).toEqual(["a", "b", "a"]);
  });

  it("reports unknown template variables with the allowed list", () => {
    expect(templateIssues(["{{name}}", "{{nme}} {{x}}"], ["name"])).toBe("unknown template variable {{nme}}, {{x}}; allowed: {{name}}");
    expect(templateIssues(["{{name}}"], ["name"])).toBeNull();
  });

  it("scrubs raw, URL-encoded and JSON-escaped secrets, longest first", () => {
    const secret = 'p@ss/w"rd';
    const text = `login ${secret} url postgresql://u:${encodeURIComponent(secret)}@h json ${JSON.stringify(secret)}`;
    expect(scrub(text, [secret, undefined, ""])).toBe(`login ${REDACTED} url postgresql://u:${REDACTED}@h json "${REDACTED}"`);
    expect(scrub("abcdef abc", ["abc", "abcdef"])).toBe(`${REDACTED} ${REDACTED}`);
  });

  it("wraps unknown errors into scrubbed ProviderErrors and passes ProviderErrors through", () => {
    const e = toProviderError(new Error("bad password hunter2"), { prefix: "X failed", secrets: ["hunter2"], retryable: true, code: "08006" });
    expect(e).toMatchObject({ message: `X failed: bad password ${REDACTED} (08006)`, retryable: true, code: "08006" });
    const original = new ProviderError("as is", false);
    expect(toProviderError(original, { prefix: "p", secrets: [], retryable: true })).toBe(original);
  });

  it("connectionTestFailure: null when the test passes, else the reason with the config's secret fields scrubbed", async () => {
    const config = { username: "admin", password: "root-Pw-hunter2", secret_access_key: "aws/Secret+Key", port: 5432 };
    // Whatever the provider throws, even an error that quotes the root password (all providers scrub their own: this is the backstop).
    const echoing = (message: string) => ({
      secretFields: ["password", "secret_access_key", "port"],
      testConnection: async () => Promise.reject(new Error(message)),
    });
    expect(await connectionTestFailure({ secretFields: ["password"], testConnection: async () => undefined }, config)).toBeNull();
    expect(await connectionTestFailure(echoing(`login admin:root-Pw-hunter2 refused; key ${encodeURIComponent("aws/Secret+Key")}`), config)).toBe(
      `login admin:${REDACTED} refused; key ${REDACTED}`,
    );
    expect(await connectionTestFailure(echoing("port 5432 closed"), config)).toBe("port 5432 closed"); // only string values are secrets
  });

  it("draws random strings from the alphabet only, uniformly enough", () => {
    const s = randomString(200_000, LOWER_ALNUM);
    expect(s).toMatch(/^[a-z0-9]{200000}$/);
    const counts = new Map<string, number>();
    for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(36);
    // Expected 5556 each (sd 73); plain modulo (256 % 36 = 4) would give 'a'-'d' about 6250.
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(5190);
      expect(n).toBeLessThan(5920);
    }
  });
});
