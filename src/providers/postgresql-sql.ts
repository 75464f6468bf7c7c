/** Postgres timestamptz literal in UTC, rounded up to the second: 2026-11-22 10:00:05+00. */
export function pgTimestamp(d: Date): string {
  const t = new Date(Math.ceil(d.getTime() / 1000) * 1000);
  return `${t.toISOString().slice(0, 19).replace("T", " ")}+00`;
}

/** Advisory lock (transaction scope) taken around revocations' ACL edits on a target database. */
export const ACL_LOCK = 72707370;

/**
 * Revokes whatever the role (name in leasehold.revoke_role) was granted directly in this database,
 * object by object, found through the ACLs (aclexplode). Blanket "REVOKE ALL ON ALL TABLES/SCHEMA/
 * DATABASE" rewrote shared catalog rows even where the role held nothing, so concurrent revocations
 * failed with "tuple concurrently updated"; now a role with no direct grants touches no ACL at all,
 * and those that have some take an advisory lock so their ACL edits never race. A root that is not
 * superuser may lack privileges on some objects; those REVOKEs are skipped (DROP OWNED follows).
 */
export const REVOKE_ALL_SCRIPT = `DO $leasehold$
DECLARE r text := current_setting('leasehold.revoke_role'); o record; locked boolean := false;
BEGIN
  FOR o IN
    SELECT DISTINCT g.kind, g.obj FROM (
      SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
             format('%I.%I', n.nspname, c.relname) AS obj
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
       WHERE a.grantee = r::regrole
      UNION ALL
      SELECT 'SCHEMA', format('%I', n.nspname) FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = r::regrole
      UNION ALL
      SELECT 'ROUTINE', p.oid::regprocedure::text FROM pg_proc p, aclexplode(p.proacl) a WHERE a.grantee = r::regrole
      UNION ALL
      SELECT 'DATABASE', format('%I', d.datname) FROM pg_database d, aclexplode(d.datacl) a
       WHERE a.grantee = r::regrole AND d.datname = current_database()
    ) g
  LOOP
    IF NOT locked THEN
      PERFORM pg_advisory_xact_lock(${ACL_LOCK});
      locked := true;
    END IF;
    BEGIN
      EXECUTE format('REVOKE ALL ON %s %s FROM %I', o.kind, o.obj, r);
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
  END LOOP;
END
$leasehold$`;
