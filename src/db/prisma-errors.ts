/**
 * Prisma error classification for repositories. Nothing above the repositories looks at Prisma's
 * error codes; they turn these into the typed errors in src/errors.ts.
 */
function code(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : undefined;
}

/** A unique constraint was violated (P2002), including our partial unique indexes. */
export function isUniqueViolation(e: unknown): boolean {
  if (code(e) === "P2002") return true;
  // Raw queries and driver adapters surface the Postgres code itself.
  return code(e) === "23505" || /unique constraint/i.test(String((e as Error)?.message ?? ""));
}

/** The record an update or delete targeted does not exist (P2025). */
export function isRecordNotFound(e: unknown): boolean {
  return code(e) === "P2025";
}

/** A foreign key was violated (P2003): the row it points at was deleted meanwhile. */
export function isForeignKeyViolation(e: unknown): boolean {
  return code(e) === "P2003" || code(e) === "23503" || /foreign key constraint/i.test(String((e as Error)?.message ?? ""));
}
