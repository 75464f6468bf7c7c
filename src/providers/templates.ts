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
