import { describe, expect, it } from "vitest";
import { compilePattern, patternError } from "../../src/policies/glob.js";

/** Which of `paths` the pattern matches. */
const matching = (pattern: string, paths: string[]) => {
  expect(patternError(pattern)).toBeNull();
  const m = compilePattern(pattern);
  return paths.filter((p) => m(p));
};

describe("path patterns: matching", () => {
  it("a literal pattern matches exactly that path, case-sensitively, slashes at the ends ignored", () => {
    const paths = ["a/b", "/a/b", "a/b/", "/a/b/", "a", "a/b/c", "A/b", "a/bc", "x/a/b"];
    expect(matching("a/b", paths)).toEqual(["a/b", "/a/b", "a/b/", "/a/b/"]);
    expect(matching("/a/b/", paths)).toEqual(["a/b", "/a/b", "a/b/", "/a/b/"]);
  });

  it("'*' matches any characters within one segment, never across '/'", () => {
    const paths = ["a", "a/x", "a/xyz", "a/x/y", "b/x", "a/pg-main", "a/pg-", "a/pgmain", "a/x/pg-1"];
    expect(matching("a/*", paths)).toEqual(["a/x", "a/xyz", "a/pg-main", "a/pg-", "a/pgmain"]);
    expect(matching("a/pg-*", paths)).toEqual(["a/pg-main", "a/pg-"]);
    expect(matching("*/x", paths)).toEqual(["a/x", "b/x"]);
    expect(matching("*", paths)).toEqual(["a"]);
    expect(matching("a/*-*n", ["a/pg-main", "a/pg-mai", "a/pgmain", "a/-n"])).toEqual(["a/pg-main", "a/-n"]);
  });

  it("'**' matches any number of segments, including none", () => {
    const paths = ["a", "a/b", "a/b/c", "ab", "b/a", "a/z", "a/b/z", "a/b/c/z", "z", "a/b/c/y"];
    expect(matching("**", paths)).toEqual(paths);
    expect(matching("a/**", paths)).toEqual(["a", "a/b", "a/b/c", "a/z", "a/b/z", "a/b/c/z", "a/b/c/y"]);
    expect(matching("a/**/z", paths)).toEqual(["a/z", "a/b/z", "a/b/c/z"]);
    expect(matching("**/z", paths)).toEqual(["a/z", "a/b/z", "a/b/c/z", "z"]);
    expect(matching("**/b/**", paths)).toEqual(["a/b", "a/b/c", "b/a", "a/b/z", "a/b/c/z", "a/b/c/y"]);
    expect(matching("a/**/*/z", paths)).toEqual(["a/b/z", "a/b/c/z"]);
  });

  it("the synthetic dynamic paths", () => {
    const paths = [
      "dynamic/engines/pg/roles/ro",
      "dynamic/engines/pg/roles/rw",
      "dynamic/engines/pg",
      "dynamic/engines/aws/roles/ro",
      "dynamic/leases/l-1",
      "dynamic/leases/l-1/extra",
    ];
    expect(matching("dynamic/engines/*/roles/ro", paths)).toEqual(["dynamic/engines/pg/roles/ro", "dynamic/engines/aws/roles/ro"]);
    expect(matching("dynamic/engines/pg/**", paths)).toEqual(["dynamic/engines/pg/roles/ro", "dynamic/engines/pg/roles/rw", "dynamic/engines/pg"]);
    expect(matching("dynamic/engines/*", paths)).toEqual(["dynamic/engines/pg"]);
    expect(matching("dynamic/leases/*", paths)).toEqual(["dynamic/leases/l-1"]);
    expect(matching("dynamic/**", paths)).toEqual(paths);
  });

  it("regular-expression characters in a pattern are literal", () => {
    expect(matching("v1.*", ["v1.2", "v1x2", "v1."])).toEqual(["v1.2", "v1."]);
    expect(matching("a+b", ["a+b", "aab", "ab"])).toEqual(["a+b"]);
    expect(matching("x=1", ["x=1", "x=11"])).toEqual(["x=1"]);
  });

  it("an empty path or one with an empty segment matches nothing, not even '**'", () => {
    for (const pattern of ["**", "*", "a/*/b", "a/**/b", "a/**"]) {
      expect(matching(pattern, ["", "/", "//", "a//b", "a/b//c"])).toEqual([]);
    }
  });

  it("many '**' segments still answer (no exponential backtracking)", () => {
    const pattern = Array.from({ length: 16 }, () => "**").join("/") + "/x";
    const path = Array.from({ length: 31 }, (_, i) => `s${i}`).join("/");
    expect(matching(pattern, [path, `${path}/x`])).toEqual([`${path}/x`]);
  });
});

describe("path patterns: syntax", () => {
  it("accepts segments of letters, digits, '.', '_', '-', ':', '@', '+', '=', and '*' / '**'", () => {
    for (const p of ["a", "/a/b/", "**", "*", "dynamic/engines/*/roles/*", "infra/postgres/support/root", "a.b_c-d:e@f+g=h", "a/**/b", "pg-*"]) {
      expect(patternError(p)).toBeNull();
    }
  });

  it("refuses empty, malformed and ambiguous patterns with a reason", () => {
    const cases: [string, string][] = [
      ["", "must name a path (use '**' for every path)"],
      ["/", "must name a path (use '**' for every path)"],
      ["a//b", "must not contain empty segments ('//')"],
      ["a/**b", "may use '**' only as a whole segment"],
      ["a/***", "may use '**' only as a whole segment"],
      ["a/./b", "must not contain '.' or '..' segments"],
      ["../a", "must not contain '.' or '..' segments"],
      ["a b", "may only contain letters, digits, '.', '_', '-', ':', '@', '+', '=', '*' and '/'"],
      ["a?", "may only contain letters, digits, '.', '_', '-', ':', '@', '+', '=', '*' and '/'"],
      ["[ab]", "may only contain letters, digits, '.', '_', '-', ':', '@', '+', '=', '*' and '/'"],
      ["a/{b,c}", "may only contain letters, digits, '.', '_', '-', ':', '@', '+', '=', '*' and '/'"],
      ["é", "may only contain letters, digits, '.', '_', '-', ':', '@', '+', '=', '*' and '/'"],
      ["a".repeat(513), "must be at most 512 characters"],
      [Array.from({ length: 33 }, () => "a").join("/"), "must have at most 32 segments"],
    ];
    for (const [pattern, reason] of cases) expect([pattern, patternError(pattern)]).toEqual([pattern, reason]);
  });
});
