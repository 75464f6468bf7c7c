/** Postgres timestamptz literal in UTC, rounded up to the second: 2026-11-22 10:00:05+00. */
export function pgTimestamp(d: Date): string {
  const t = new Date(Math.ceil(d.getTime() / 1000) * 1000);
  return `${t.toISOString().slice(0, 19).replace("T", " ")}+00`;
}

/**
 * Revokes whatever the role (name in leasehold.revoke_role) was granted in this database. A root
 * that is not superuser may lack privileges on some objects; those REVOKEs are skipped (what
 * remains is revoked by DROP OWNED anyway).
 */
export const REVOKE_ALL_SCRIPT = `DO $leasehold$
DECLARE r text := current_setting('leasehold.revoke_role'); s text; k text;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' LOOP
    FOREACH k IN ARRAY ARRAY['ALL TABLES IN SCHEMA', 'ALL SEQUENCES IN SCHEMA', 'ALL ROUTINES IN SCHEMA', 'SCHEMA'] LOOP
      BEGIN
        EXECUTE format('REVOKE ALL ON %s %I FROM %I', k, s, r);
      EXCEPTION WHEN insufficient_privilege THEN NULL;
      END;
    END LOOP;
  END LOOP;
  BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), r);
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
END
$leasehold$`;
