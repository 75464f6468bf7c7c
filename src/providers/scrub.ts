import { ProviderError, type Provider } from "./provider.js";

export const REDACTED = "[REDACTED]";

/**
 * Replaces every known secret value in `text` (raw, URL-encoded and JSON-escaped forms) with
 * [REDACTED]. Upstream error messages can quote SQL or URLs that carry a password.
 */
export function scrub(text: string, secrets: Iterable<string | null | undefined>): string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  let out = text;
  for (const f of [...forms].sort((a, b) => b.length - a.length)) out = out.split(f).join(REDACTED);
  return out;
}

/**
 * Turns anything thrown while talking to an upstream into a ProviderError whose message is
 * scrubbed. The original error is not attached (its fields may carry credentials).
 */
export function toProviderError(
  err: unknown,
  opts: { prefix: string; secrets: Iterable<string | null | undefined>; retryable: boolean; code?: string },
): ProviderError {
  if (err instanceof ProviderError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const code = opts.code ? ` (${opts.code})` : "";
  return new ProviderError(scrub(`${opts.prefix}: ${raw}${code}`, opts.secrets), opts.retryable, opts.code);
}

/**
 * Runs the provider's connection test: null when it passes, else why it failed, with the values of
 * the config's secret fields (provider.secretFields) scrubbed. Providers scrub their own errors
 * already; this holds whatever threw.
 */
export async function connectionTestFailure(provider: Pick<Provider, "secretFields" | "testConnection">, config: unknown): Promise<string | null> {
  try {
    await provider.testConnection(config);
    return null;
  } catch (err) {
    const fields = (config ?? {}) as Record<string, unknown>;
    const secrets = provider.secretFields.map((f) => fields[f]).filter((v): v is string => typeof v === "string");
    return scrub(err instanceof Error ? err.message : String(err), secrets);
  }
}
