import { describe, expect, it } from "vitest";
import { folderChain, normalizePath, splitPathAndKey } from "../../src/secrets/paths.js";
import { pyRepr } from "../../src/secrets/python-repr.js";
import { parseReference } from "../../src/secrets/references.js";
import { cleanTagNames } from "../../src/secrets/tags.js";
import { BadRequestError } from "../../src/errors.js";

describe("normalizePath (Phase's test_secret.py cases)", () => {
  it.each([
    ["/", "/"],
    ["", "/"],
    ["foo", "/foo"],
    ["/foo/", "/foo"],
    ["//foo//bar", "/foo/bar"],
    ["//", "/"],
    ["/a/b/", "/a/b"],
    ["a b/./..", "/a b/./.."],
  ])("%j → %j", (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });
});

describe("folderChain and splitPathAndKey", () => {
  it("lists parents first, nothing for the root", () => {
    expect(folderChain("/a/b/c")).toEqual(["/a", "/a/b", "/a/b/c"]);
    expect(folderChain("/")).toEqual([]);
  });
  it("splits on the last slash", () => {
    expect(splitPathAndKey("KEY")).toEqual({ path: "/", key: "KEY" });
    expect(splitPathAndKey("/backend/payments/KEY")).toEqual({ path: "/backend/payments", key: "KEY" });
    expect(splitPathAndKey("folder/KEY")).toEqual({ path: "/folder", key: "KEY" });
    expect(splitPathAndKey("/KEY")).toEqual({ path: "/", key: "KEY" });
  });
});

describe("pyRepr (Python repr of JSON values)", () => {
  it.each([
    ["x", "'x'"],
    ["it's", `"it's"`],
    [`it's "q"`, `'it\\'s "q"'`],
    ["a\\b\nc\td", "'a\\\\b\\nc\\td'"],
    ["\u0001", "'\\x01'"],
    ["é ü 中", "'é ü 中'"],
    ["\u200b", "'\\u200b'"],
    [5, "5"],
    [true, "True"],
    [null, "None"],
    [["config", "sealed", "secret"], "['config', 'sealed', 'secret']"],
    [{ a: [1, false] }, "{'a': [1, False]}"],
  ])("%j → %s", (value, expected) => {
    expect(pyRepr(value)).toBe(expected);
  });
});

describe("cleanTagNames", () => {
  it("strips, drops blanks and non-strings, removes repeats", () => {
    expect(cleanTagNames([" a ", "", "  ", 1, null, "b", "a"])).toEqual(["a", "b"]);
  });
  it("counts characters, not UTF-16 units", () => {
    expect(cleanTagNames(["😀".repeat(64)])).toEqual(["😀".repeat(64)]);
    expect(() => cleanTagNames(["😀".repeat(65)])).toThrow(`Tag name exceeds 64 characters: '${"😀".repeat(32)}'…`);
  });
  it("throws a 400", () => {
    try {
      cleanTagNames(["z".repeat(65)]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BadRequestError);
      expect((e as BadRequestError).statusCode).toBe(400);
    }
  });
});

describe("parseReference (Phase's three patterns)", () => {
  it.each([
    ["KEY", { ref: "KEY" }],
    ["/a/b/KEY", { ref: "/a/b/KEY" }],
    ["staging.KEY", { env: "staging", ref: "KEY" }],
    ["prod./frontend/KEY", { env: "prod", ref: "/frontend/KEY" }],
    ["app::env.KEY", { app: "app", env: "env", ref: "KEY" }],
    ["my app::env./p/KEY.WITH.DOTS", { app: "my app", env: "env", ref: "/p/KEY.WITH.DOTS" }],
    ["a::b", null],
    [".KEY", null],
    ["env.", null],
  ])("%j → %j", (inner, expected) => {
    expect(parseReference(inner)).toEqual(expected);
  });
});
