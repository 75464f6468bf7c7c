import { parseArgs, type ParseArgsConfig } from "node:util";
import { usageError } from "./errors.js";
import { FORMATS, type Format } from "./formats.js";

type Values = Record<string, string | boolean | undefined>;
type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** Options every environment-scoped command takes. `--app-id` is Phase's CLI spelling of `--app`. */
export const CONTEXT_OPTIONS = {
  app: { type: "string" },
  "app-id": { type: "string" },
  env: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

/** Strict parsing: unknown options and stray positionals are usage errors (exit 64); `positionalHint` replaces the latter's message. */
export function parseOptions(args: string[], options: ParseArgsOptionsConfig, positionalHint?: string): Values {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Values;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (positionalHint && e.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") throw usageError(positionalHint);
    throw usageError(`${e.message.split(". ")[0]!.replace(/\.$/, "")} (see --help)`);
  }
}

export function required(values: Values, name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v.trim() === "") throw usageError(`--${name} is required`);
  return v.trim();
}

export const optional = (values: Values, name: string): string | undefined => {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
};

/** `--app` (or `--app-id`) and `--env`, both required. */
export function context(values: Values): { appId: string; env: string } {
  if (values["app"] !== undefined && values["app-id"] !== undefined) throw usageError("give --app or --app-id, not both");
  const appId = values["app"] !== undefined ? required(values, "app") : values["app-id"] !== undefined ? required(values, "app-id") : undefined;
  if (!appId) throw usageError("--app is required (the app's id)");
  return { appId, env: required(values, "env") };
}

export function format(values: Values, fallback: Format = "dotenv"): Format {
  const f = optional(values, "format") ?? fallback;
  if (!(FORMATS as readonly string[]).includes(f)) throw usageError(`--format must be one of ${FORMATS.join(", ")}`);
  return f as Format;
}

/** A whole number of seconds (the server applies its own bounds). */
export function seconds(values: Values, name: string): string | undefined {
  const v = optional(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw usageError(`--${name} must be a whole number of seconds`);
  return v.trim();
}
