import { z } from "zod";
import { keyDigest } from "../crypto/digest.js";
import { BadRequestError } from "../errors.js";
import type { KeyMapEntry } from "../providers/provider.js";

/** One output of a dynamic secret as stored (sealed) on the definition: Phase's key_map item. */
export interface StoredKeyMapEntry {
  id: string;
  key_name: string;
  masked: boolean;
}

export const keyMapInputSchema = z.array(
  z.object({
    id: z.string().min(1),
    key_name: z.string(),
    masked: z.boolean().optional(),
  }),
);

export type KeyMapInput = z.input<typeof keyMapInputSchema>;

const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/**
 * The definition's key map: the provider's defaults, with the caller's entries overriding key
 * names (and masking) by output id. The caller's order comes first, then any output they left
 * out. Key names must be usable as environment variables and distinct ignoring case (Phase's
 * keyDigest upper-cases them).
 */
export function buildKeyMap(defaults: readonly KeyMapEntry[], input: KeyMapInput | undefined): StoredKeyMapEntry[] {
  const known = new Map(defaults.map((d) => [d.id, d]));
  const out: StoredKeyMapEntry[] = [];
  const seen = new Set<string>();
  for (const e of input ?? []) {
    const d = known.get(e.id);
    if (!d) throw new BadRequestError(`Unknown key_map id '${e.id}'; this provider outputs: ${[...known.keys()].join(", ")}.`);
    if (seen.has(e.id)) throw new BadRequestError(`key_map lists '${e.id}' more than once.`);
    seen.add(e.id);
    out.push({ id: e.id, key_name: e.key_name.trim(), masked: e.masked ?? d.masked });
  }
  for (const d of defaults) if (!seen.has(d.id)) out.push({ id: d.id, key_name: d.keyName, masked: d.masked });

  const names = new Set<string>();
  for (const e of out) {
    if (!KEY_NAME.test(e.key_name)) {
      throw new BadRequestError(`Invalid key name '${e.key_name}': use letters, digits and underscores, not starting with a digit.`);
    }
    const upper = e.key_name.toUpperCase();
    if (names.has(upper)) throw new BadRequestError(`Key name '${e.key_name}' is used twice in key_map.`);
    names.add(upper);
  }
  return out;
}

/** Phase's keyDigest of every key name, in key_map order (stored in clear for duplicate checks). */
export function keyMapDigests(map: StoredKeyMapEntry[], salt: string): string[] {
  return map.map((e) => keyDigest(e.key_name, salt));
}
