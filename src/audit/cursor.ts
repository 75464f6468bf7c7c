import { z } from "zod";

/** Where an event sits in the log's total order: its time (epoch microseconds), its table, its row id. */
export interface LogPosition {
  /** Epoch microseconds as a decimal string (exact: timestamptz has microseconds, a JS Date only milliseconds). */
  micros: string;
  /** "le" (lease_events) sorts after "ae" (audit_events) at the same instant. */
  source: EventSource;
  /** The row's bigint id as a decimal string. */
  id: string;
}

export type EventSource = "ae" | "le";
export type LogOrder = "desc" | "asc";

export interface Cursor extends LogPosition {
  order: LogOrder;
}

const payload = z.strictObject({
  o: z.enum(["desc", "asc"]),
  t: z.string().regex(/^-?\d{1,19}$/),
  s: z.enum(["ae", "le"]),
  i: z.string().regex(/^\d{1,19}$/),
});

/**
 * The page cursor: opaque to clients (base64url of a small JSON object), naming the last event of
 * a page. The next page starts strictly after it in the same order, so events inserted meanwhile
 * neither repeat nor shift what follows.
 */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ o: c.order, t: c.micros, s: c.source, i: c.id })).toString("base64url");
}

/** The cursor in `text`, or null when it is not one this API issued. */
export function decodeCursor(text: string): Cursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(text)) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  const parsed = payload.safeParse(json);
  if (!parsed.success) return null;
  const { o, t, s, i } = parsed.data;
  return { order: o, micros: t, source: s, id: i };
}
