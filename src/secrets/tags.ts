import { BadRequestError } from "../errors.js";
import { pyRepr } from "./python-repr.js";

export const TAG_NAME_MAX = 64;

/**
 * Phase's tag rules on writes: non-strings and blank names are dropped, names are stripped, a
 * name over 64 characters is refused with Phase's message; repeats collapse to one.
 */
export function cleanTagNames(raw: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const item of raw) {
    if (typeof item !== "string") continue;
    const name = item.trim();
    if (name === "") continue;
    const chars = Array.from(name);
    if (chars.length > TAG_NAME_MAX) {
      throw new BadRequestError(`Tag name exceeds ${TAG_NAME_MAX} characters: ${pyRepr(chars.slice(0, 32).join(""))}…`);
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
