import { CodedError } from "../errors.js";

/**
 * The /v1/dynamic/ error codes (the ScaiVault guide's, plus what the surface needs). Every one
 * is `{"error": "<human message>", "code": "<code>", "details"?: {...}}` on the wire.
 */
export const EngineErrors = {
  engineNotFound: (name: string) => new CodedError(404, "engine_not_found", `Engine '${name}' not found.`),
  roleNotFound: (engine: string, role: string) => new CodedError(404, "role_not_found", `Role '${role}' not found in engine '${engine}'.`),
  leaseNotFound: () => new CodedError(404, "lease_not_found", "Lease not found."),
  engineExists: (name: string) => new CodedError(409, "engine_exists", `An engine named '${name}' already exists.`),
  roleExists: (engine: string, role: string) => new CodedError(409, "role_exists", `Role '${role}' already exists in engine '${engine}'.`),
  invalidConfig: (message: string, details?: Record<string, unknown>) => new CodedError(400, "invalid_config", message, details),
  invalidRequest: (message: string) => new CodedError(400, "invalid_request", message),
  invalidTtl: (message: string) => new CodedError(400, "invalid_ttl", message),
  ttlExceedsMax: (message: string, details?: Record<string, unknown>) => new CodedError(400, "ttl_exceeds_max", message, details),
  engineUnreachable: (message: string, details?: Record<string, unknown>) => new CodedError(502, "engine_unreachable", message, details),
  credentialFailed: (message: string, details?: Record<string, unknown>) => new CodedError(502, "credential_creation_failed", message, details),
  leaseExpired: () => new CodedError(410, "lease_expired", "The lease has expired and can no longer be renewed."),
  leaseRevoked: () => new CodedError(409, "lease_revoked", "The lease has been revoked and cannot be renewed."),
  leaseBusy: (message: string) => new CodedError(409, "lease_busy", message),
  rotationUnsupported: (message: string) => new CodedError(400, "rotation_unsupported", message),
  rotationInProgress: () =>
    new CodedError(409, "rotation_in_progress", "A root rotation of this engine is in progress; try again in a minute."),
  engineHasLeases: (pending: number) =>
    new CodedError(409, "engine_has_leases", `The engine still has ${pending} lease${pending === 1 ? "" : "s"} being revoked; try DELETE again once they are gone.`, { pending_leases: pending }),
  rotationFailed: () =>
    new CodedError(502, "rotation_failed", "The target system refused to change the root password; the engine keeps its current one."),
  permissionDenied: (what: string) => new CodedError(403, "permission_denied", `You don't have permission to ${what}.`),
};
