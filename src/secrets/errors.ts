import { BadRequestError, ConflictError, NotFoundError } from "../errors.js";

/** Phase's exact messages for the secrets endpoints (clients match on them). */
export const duplicateSecret = () => new ConflictError("Duplicate secret found");
export const secretNotFound = (id: string) => new NotFoundError(`Secret not found: ${id}`);
export const secretsNotFoundInEnvironment = (ids: string[]) =>
  new NotFoundError(`Secret(s) not found in this environment: ${ids.join(", ")}`);
export const sealedCannotBeUnsealed = () =>
  new BadRequestError("Sealed secrets cannot be unsealed. Delete and recreate the secret instead.");
