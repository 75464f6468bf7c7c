/**
 * Path patterns of policy rules. Patterns and paths are compared segment by segment, without
 * leading or trailing slashes:
 * - `**` (a whole segment) matches any number of segments, including none;
 * - `*` matches any characters within one segment (`pg-*` matches `pg-main`, not `pg/main`);
 * - everything else is literal and case-sensitive.
 * A segment is letters, digits and `. _ - : @ + =`, plus `*`; `**` only stands alone, and empty,
 * `.` and `..` segments are refused, so a pattern means the same thing to every reader.
 */

const SEGMENT = /^[A-Za-z0-9._:@+=*-]+$/;
export const MAX_PATTERN_LENGTH = 512;
const MAX_SEGMENTS = 32;

/** The segments of a path or pattern: leading and trailing slashes ignored. */
export function segmentsOf(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

/** Why `pattern` is not a valid path pattern, or null when it is. */
export function patternError(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return `must be at most ${MAX_PATTERN_LENGTH} characters`;
  const segments = segmentsOf(pattern);
  if (segments.length === 0) return "must name a path (use '**' for every path)";
  if (segments.length > MAX_SEGMENTS) return `must have at most ${MAX_SEGMENTS} segments`;
  for (const s of segments) {
    if (s === "") return "must not contain empty segments ('//')";
    if (s === "." || s === "..") return "must not contain '.' or '..' segments";
    if (!SEGMENT.test(s)) return "may only contain letters, digits, '.', '_', '-', ':', '@', '+', '=', '*' and '/'";
    if (s.includes("**") && s !== "**") return "may use '**' only as a whole segment";
  }
  return null;
}

type SegmentMatcher = "**" | ((segment: string) => boolean);

/** A compiled pattern: `(path) => boolean`. The pattern must be valid (see patternError). */
export function compilePattern(pattern: string): (path: string) => boolean {
  const matchers: SegmentMatcher[] = segmentsOf(pattern).map((s) => {
    if (s === "**") return "**";
    if (!s.includes("*")) return (seg: string) => seg === s;
    const re = new RegExp(`^${s.split("*").map(escapeRegExp).join("[^/]*")}$`);
    return (seg: string) => re.test(seg);
  });
  return (path) => matchSegments(matchers, segmentsOf(path));
}

/**
 * Dynamic programming over (pattern position, path position): linear in their product, so no
 * pattern of many `**` can make it backtrack exponentially. `reach[j]` is true when the pattern
 * read so far matches the first j path segments.
 */
function matchSegments(matchers: SegmentMatcher[], segments: string[]): boolean {
  // An empty path or `a//b` is not a path any rule names.
  if (segments.length === 0 || segments.some((s) => s === "")) return false;
  let reach = segments.map(() => false).concat(false);
  reach[0] = true;
  for (const m of matchers) {
    const next = reach.map(() => false);
    for (let j = 0; j <= segments.length; j++) {
      if (m === "**") next[j] = reach[j]! || (j > 0 && next[j - 1]!);
      else next[j] = j > 0 && reach[j - 1]! && m(segments[j - 1]!);
    }
    reach = next;
  }
  return reach[segments.length]!;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
