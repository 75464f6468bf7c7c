import { CONTEXT_OPTIONS, context, format, optional, parseOptions } from "./args.js";
import { usageError } from "./errors.js";
import { nameRule, render, usableEntries } from "./formats.js";
import { SECRETS_HELP } from "./help.js";
import { createApiClient } from "./http.js";
import { out, warnSkipped } from "./output.js";
import { fetchSecrets } from "./secrets.js";
import { loadSettings } from "./settings.js";

const OPTIONS = {
  ...CONTEXT_OPTIONS,
  path: { type: "string", default: "/" },
  tags: { type: "string" },
  format: { type: "string" },
} as const;

/** `leasehold secrets export`: the environment's secrets on stdout. */
export async function runSecrets(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "help" || sub === "--help" || sub === "-h") return out(`${SECRETS_HELP}\n`), 0;
  if (sub !== "export") throw usageError(sub === undefined ? "secrets needs a subcommand: export (see leasehold secrets --help)" : `unknown secrets command '${sub}' (known: export)`);

  const values = parseOptions(rest, OPTIONS);
  if (values["help"]) return out(`${SECRETS_HELP}\n`), 0;
  const { appId, env } = context(values);
  const fmt = format(values);
  const client = createApiClient(loadSettings());
  const entries = await fetchSecrets(client, { appId, env, path: optional(values, "path"), tags: optional(values, "tags") });
  const { usable, skipped } = usableEntries(entries, nameRule(fmt));
  warnSkipped(skipped, `not a valid ${fmt} name`);
  out(render(fmt, usable));
  return 0;
}
