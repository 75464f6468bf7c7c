import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { constantTimeEqualHex, generateToken, hashToken } from "../../src/crypto/tokens.js";

describe("API tokens", () => {
  it("are 64 lowercase hex characters (256 bits), never repeated", () => {
    const tokens = Array.from({ length: 100 }, generateToken);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(tokens).size).toBe(100);
  });

  it("are stored as their SHA-256 in hex, the same as sha256sum computes", () => {
    const token = generateToken();
    const external = execFileSync("sha256sum", { input: token, encoding: "utf8" }).split(/\s+/)[0];
    expect(hashToken(token)).toBe(external);
    expect(hashToken(token)).not.toBe(hashToken(generateToken()));
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); // FIPS 180-2 example
  });

  it("compare in constant time, false for different values or lengths", () => {
    const h = hashToken("x");
    expect(constantTimeEqualHex(h, hashToken("x"))).toBe(true);
    expect(constantTimeEqualHex(h, hashToken("y"))).toBe(false);
    expect(constantTimeEqualHex(h, h.slice(0, 62))).toBe(false);
    expect(constantTimeEqualHex(h, "")).toBe(false);
  });
});
