import { CliError, EXIT, exitCodeForStatus } from "./errors.js";
import type { Settings } from "./settings.js";
import type { TokenType } from "./token.js";

export interface ApiRequest {
  method: "GET" | "PUT" | "DELETE";
  /** Under the API base, e.g. `/v1/secrets/` (Phase's routes need the trailing slash). */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
}

export interface ApiClient {
  request<T>(req: ApiRequest): Promise<T>;
}

/** What the server says when a token is unknown, or known under another type. */
const TOKEN_REJECTED = "Token expired or deleted";
const USER_AGENT = `leasehold-cli (node ${process.version})`;

interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

function errorMessage(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { error, detail } = body as { error?: unknown; detail?: unknown };
  if (typeof error === "string") return error;
  return typeof detail === "string" ? detail : undefined;
}

/**
 * The REST client of the CLI: global fetch, Phase's `Authorization: Bearer <type> <token>`, JSON in
 * and out. A raw token of unknown type is tried as ServiceAccount, then (on the server's
 * "Token expired or deleted", sent before any work is done) as User; the type that worked is kept
 * for the invocation's later requests. Failures become CliErrors carrying the server's `error`
 * message and an exit code (errors.ts); the token never appears in a message.
 */
export function createApiClient(settings: Settings, fetchImpl: typeof fetch = fetch): ApiClient {
  let knownType = settings.credential.type;

  function url(req: ApiRequest): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) q.set(k, v);
    const qs = q.toString();
    return `${settings.apiBase}${req.path}${qs ? `?${qs}` : ""}`;
  }

  async function send(req: ApiRequest, type: TokenType): Promise<Reply> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${type} ${settings.credential.token}`,
      Accept: "application/json",
      "User-Agent": USER_AGENT,
    };
    if (req.body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetchImpl(url(req), {
        method: req.method,
        headers,
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (err) {
      throw networkError(err);
    }
    const text = await res.text().catch(() => "");
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      const kind = res.headers.get("content-type")?.split(";")[0] ?? "no content type";
      throw new CliError(EXIT.unavailable, `unexpected answer from ${settings.apiBase} (HTTP ${res.status}, ${kind}, not JSON): is this a Leasehold server?`);
    }
    return { status: res.status, body, headers: res.headers };
  }

  function networkError(err: unknown): CliError {
    const e = err as { name?: string; cause?: { code?: string; message?: string } };
    if (e.name === "TimeoutError" || e.name === "AbortError") {
      return new CliError(EXIT.unavailable, `no answer from ${settings.apiBase} within ${settings.timeoutMs / 1000}s`);
    }
    const cause = e.cause?.code ?? e.cause?.message ?? (err as Error).message;
    return new CliError(EXIT.unavailable, `cannot reach ${settings.apiBase}: ${cause}`);
  }

  function failure(reply: Reply): CliError {
    const message = errorMessage(reply.body) ?? "request failed";
    const retry = reply.status === 429 ? reply.headers.get("retry-after") : null;
    return new CliError(exitCodeForStatus(reply.status), `${message} (HTTP ${reply.status}${retry ? `, retry after ${retry}s` : ""})`);
  }

  return {
    async request<T>(req: ApiRequest): Promise<T> {
      const candidates: TokenType[] = knownType ? [knownType] : ["ServiceAccount", "User"];
      for (let i = 0; ; i++) {
        const type = candidates[i]!;
        const reply = await send(req, type);
        if (reply.status >= 200 && reply.status < 300) {
          knownType = type;
          return reply.body as T;
        }
        const retry = reply.status === 401 && errorMessage(reply.body) === TOKEN_REJECTED && i + 1 < candidates.length;
        if (!retry) throw failure(reply);
      }
    },
  };
}
