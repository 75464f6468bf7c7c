import { stringify } from "yaml";

export const FORMATS = ["dotenv", "json", "yaml", "shell"] as const;
export type Format = (typeof FORMATS)[number];

/** Key/value pairs in output order. */
export type Entries = [key: string, value: string][];

/** Names a POSIX shell can export. */
export const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names dotenv parsers accept (Node's --env-file, dotenv, python-dotenv, Docker Compose). */
export const DOTENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Read the same by every dotenv parser and by sh without quotes. */
const PLAIN = /^[A-Za-z0-9_@%+,./:=-]*$/;

/**
 * One dotenv value:
 * - only plain characters (or empty): unquoted, `KEY=value`;
 * - no single quote: single-quoted, everything literal (`$`, `#`, `"`, `\`, and newlines kept as
 *   line breaks): read identically by Node's --env-file, dotenv, python-dotenv, Docker Compose and
 *   `set -a; . ./file` in sh;
 * - with a single quote: double-quoted with `\\`, `\"`, `\$`, `` \` ``, `\n`, `\r` escapes (the
 *   convention of Docker Compose, godotenv, python-dotenv and Ruby's dotenv). Node's own parser
 *   expands only `\n` there; for exact values in any consumer use json, yaml or shell.
 */
export function dotenvValue(value: string): string {
  if (PLAIN.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  const escaped = value.replace(/[\\"$`\n\r]/g, (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\${c}`));
  return `"${escaped}"`;
}

/** POSIX sh single quotes: exact for any value (`'` becomes `'\''`). */
export const shellValue = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** Renders entries; dotenv and shell callers drop names they cannot express first (see usableEntries). */
export function render(format: Format, entries: Entries): string {
  switch (format) {
    case "dotenv":
      return entries.map(([k, v]) => `${k}=${dotenvValue(v)}\n`).join("");
    case "shell":
      return entries.map(([k, v]) => `export ${k}=${shellValue(v)}\n`).join("");
    case "json":
      return `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`;
    case "yaml":
      return stringify(Object.fromEntries(entries), { lineWidth: 0 });
  }
}

/** The name rule of a format, if it has one. */
export function nameRule(format: Format): RegExp | undefined {
  return format === "dotenv" ? DOTENV_NAME : format === "shell" ? SHELL_NAME : undefined;
}

/** Splits entries into those `rule` accepts and the names it rejects. */
export function usableEntries(entries: Entries, rule: RegExp | undefined): { usable: Entries; skipped: string[] } {
  if (!rule) return { usable: entries, skipped: [] };
  return { usable: entries.filter(([k]) => rule.test(k)), skipped: entries.filter(([k]) => !rule.test(k)).map(([k]) => k) };
}
