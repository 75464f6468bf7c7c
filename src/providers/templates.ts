/**
 * `{{variable}}` templates used in SQL statements, connection URLs and IAM user names. Only
 * allow-listed variables exist; an unknown one is a configuration error, caught when the config
 * is validated rather than when a lease is created.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Variable names used in `template`, in order of appearance (with repeats). */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** Variables used in `template` that are not in `allowed`. */
export function unknownPlaceholders(template: string, allowed: readonly string[]): string[] {
  return [...new Set(placeholders(template).filter((p) => !allowed.includes(p)))];
}

/** Substitutes every `{{var}}`; throws on a variable without a value (validation should prevent it). */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`Template variable {{${name}}} has no value here.`);
    return v;
  });
}

/** For config validation: a message naming unknown variables in `templates`, or null if none. */
export function templateIssues(templates: readonly string[], allowed: readonly string[]): string | null {
  const unknown = [...new Set(templates.flatMap((t) => unknownPlaceholders(t, allowed)))];
  if (unknown.length === 0) return null;
  const list = unknown.map((u) => `{{${u}}}`).join(", ");
  return `unknown template variable ${list}; allowed: ${allowed.map((a) => `{{${a}}}`).join(", ")}`;
}

const PASSWORD_PARAMS = new Set(["password", "passwd", "pass", "sslpassword"]);
export const INLINE_PASSWORD_MESSAGE = "must not contain a password (it would reach every lease holder): write {{username}}:{{password}} and give username and password";

/**
 * Does a connection_url template carry a password of its own instead of `{{password}}`? Every
 * lease's connection URL is this template rendered, so such a password would reach every lease
 * holder (and it is not a secret field, so nothing scrubs it from errors).
 */
export function hasInlinePassword(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url.replace(PLACEHOLDER, (_m, name: string) => (name === "username" ? "u" : "")));
  } catch {
    return false; // the provider's schema says what is wrong with it
  }
  return parsed.password !== "" || [...parsed.searchParams].some(([k, v]) => PASSWORD_PARAMS.has(k.toLowerCase()) && v !== "");
}
