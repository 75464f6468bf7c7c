import { stringify } from "yaml";
import { CONTEXT_OPTIONS, context, format, parseOptions, required, seconds } from "./args.js";
import { CliError, EXIT, usageError } from "./errors.js";
import { nameRule, render, usableEntries, type Entries } from "./formats.js";
import { LEASE_HELP } from "./help.js";
import { createApiClient, type ApiClient } from "./http.js";
import { note, out, warnSkipped } from "./output.js";
import { loadSettings } from "./settings.js";

/** The fields of Phase's dynamic secret and lease objects the CLI reads. */
interface WireLease {
  id: string;
  expiresAt: string;
  credentials: { key: string; value: string }[];
}
interface WireDynamicSecret {
  id: string;
  lease: WireLease | null;
}

const LEASES_PATH = "/v1/secrets/dynamic/leases/";

/** `leasehold lease create|renew|revoke`: Phase's lease endpoints, as its Go SDK calls them. */
export async function runLease(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "help" || sub === "--help" || sub === "-h") return out(`${LEASE_HELP}\n`), 0;
  const command = sub === "create" ? create : sub === "renew" ? renew : sub === "revoke" ? revoke : undefined;
  if (!command) throw usageError(sub === undefined ? "lease needs a subcommand: create, renew or revoke (see leasehold lease --help)" : `unknown lease command '${sub}' (known: create, renew, revoke)`);
  return command(rest);
}

/** GET /v1/secrets/dynamic/?id=&lease=true[&ttl=]: one fresh lease, its credentials returned once. */
async function create(args: string[]): Promise<number> {
  const values = parseOptions(args, { ...CONTEXT_OPTIONS, "secret-id": { type: "string" }, ttl: { type: "string" }, format: { type: "string" } });
  if (values["help"]) return out(`${LEASE_HELP}\n`), 0;
  const { appId, env } = context(values);
  const secretId = required(values, "secret-id");
  const ttl = seconds(values, "ttl");
  const fmt = format(values);
  const client = createApiClient(loadSettings());
  const body = await client.request<WireDynamicSecret[]>({
    method: "GET",
    path: "/v1/secrets/dynamic/",
    query: { app_id: appId, env, id: secretId, lease: "true", ttl },
  });
  const lease = Array.isArray(body) ? body.find((d) => d?.id === secretId)?.lease : undefined;
  if (!lease || typeof lease.id !== "string" || !Array.isArray(lease.credentials)) {
    throw new CliError(EXIT.unavailable, "unexpected answer from the server: no lease in the reply");
  }
  const credentials: Entries = lease.credentials.map((c) => [c.key, c.value]);
  if (fmt === "json" || fmt === "yaml") {
    const doc = { lease_id: lease.id, secret_id: secretId, expires_at: lease.expiresAt, credentials: Object.fromEntries(credentials) };
    out(fmt === "json" ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0 }));
    return 0;
  }
  note(`lease ${lease.id} expires at ${lease.expiresAt}`);
  const { usable, skipped } = usableEntries(credentials, nameRule(fmt));
  warnSkipped(skipped, `not a valid ${fmt} name`);
  out(render(fmt, usable));
  return 0;
}

const LEASE_OPTIONS = { ...CONTEXT_OPTIONS, "lease-id": { type: "string" }, format: { type: "string" } } as const;

/** text: the server's message on stdout; json: its reply object. */
function printMessage(fmt: string, reply: { message?: unknown }): number {
  out(fmt === "json" ? `${JSON.stringify(reply)}\n` : `${typeof reply.message === "string" ? reply.message : "done"}\n`);
  return 0;
}

function messageFormat(values: Record<string, unknown>): "text" | "json" {
  const f = values["format"] ?? "text";
  if (f !== "text" && f !== "json") throw usageError("--format must be text or json");
  return f;
}

/** DELETE /v1/secrets/dynamic/leases/ {lease_id}: revoke now (also used by `run --leases`). */
export function revokeLease(client: ApiClient, appId: string, env: string, leaseId: string) {
  return leaseCall(client, "DELETE", appId, env, { lease_id: leaseId });
}

async function leaseCall(client: ApiClient, method: "PUT" | "DELETE", appId: string, env: string, body: Record<string, unknown>) {
  return client.request<{ message?: unknown }>({ method, path: LEASES_PATH, query: { app_id: appId, env }, body });
}

/** PUT /v1/secrets/dynamic/leases/ {lease_id, ttl}: the expiry grows by ttl (server default 3600). */
async function renew(args: string[]): Promise<number> {
  const values = parseOptions(args, { ...LEASE_OPTIONS, ttl: { type: "string" } });
  if (values["help"]) return out(`${LEASE_HELP}\n`), 0;
  const { appId, env } = context(values);
  const leaseId = required(values, "lease-id");
  const ttl = seconds(values, "ttl");
  const fmt = messageFormat(values);
  const client = createApiClient(loadSettings());
  return printMessage(fmt, await leaseCall(client, "PUT", appId, env, { lease_id: leaseId, ...(ttl ? { ttl: Number(ttl) } : {}) }));
}

/** DELETE /v1/secrets/dynamic/leases/ {lease_id}: revoke now. */
async function revoke(args: string[]): Promise<number> {
  const values = parseOptions(args, LEASE_OPTIONS);
  if (values["help"]) return out(`${LEASE_HELP}\n`), 0;
  const { appId, env } = context(values);
  const leaseId = required(values, "lease-id");
  const fmt = messageFormat(values);
  const client = createApiClient(loadSettings());
  return printMessage(fmt, await revokeLease(client, appId, env, leaseId));
}
