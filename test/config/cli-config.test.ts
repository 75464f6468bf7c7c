import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runCli } from "../cli/cli.js";

/** The CLI refuses bad configuration before doing anything: exit 78 (EX_CONFIG), a clear message, no secret echoed. */
describe("CLI configuration errors", { timeout: 90_000 }, () => {
  it("a bad LEASEHOLD_MASTER_KEY: exit 78, names the variable, never prints the value", async () => {
    const bad = randomBytes(24).toString("base64"); // 24 bytes: valid base64, wrong length
    const r = await runCli(["serve"], { LEASEHOLD_MASTER_KEY: bad, DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none" });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe(
      "leasehold: Invalid configuration:\n  - LEASEHOLD_MASTER_KEY: must be the base64 encoding of exactly 32 bytes (openssl rand -base64 32)\n",
    );
    expect(r.stdout).toBe("");
    expect(`${r.stdout}${r.stderr}`).not.toContain(bad);
  });

  it("several bad variables are listed together; a secret-bearing URL and token are not echoed", async () => {
    const token = randomBytes(32).toString("hex").toUpperCase();
    const r = await runCli(["serve"], { PORT: "99999", DATABASE_URL: "mysql://root:s3cr3t-pw@db/x", LEASEHOLD_BOOTSTRAP_TOKEN: token });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe(
      [
        "leasehold: Invalid configuration:",
        "  - DATABASE_URL: must be a postgresql:// URL",
        "  - PORT: Too big: expected number to be <=65535",
        "  - LEASEHOLD_BOOTSTRAP_TOKEN: must be 64 lowercase hex characters (openssl rand -hex 32)",
        "  - LEASEHOLD_MASTER_KEY: is required when DATABASE_URL is set (generate one with: openssl rand -base64 32)",
        "",
      ].join("\n"),
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain("s3cr3t-pw");
    expect(`${r.stdout}${r.stderr}`).not.toContain(token);
  });
});
