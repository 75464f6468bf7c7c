import { errorResponse } from "./schemas.js";

/**
 * The error statuses a route documents (for the OpenAPI output). The bodies are built by the one
 * error handler in src/errors.ts; these schemas only describe them.
 */
export const AUTH_ERRORS = { 401: errorResponse, 403: errorResponse } as const;

export function errors<S extends 400 | 404 | 409>(...statuses: S[]) {
  const out = { ...AUTH_ERRORS } as typeof AUTH_ERRORS & { [K in S]: typeof errorResponse };
  for (const s of statuses) (out as Record<number, typeof errorResponse>)[s] = errorResponse;
  return out;
}
