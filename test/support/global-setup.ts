import pg from "pg";
import { ADMIN_URL } from "./database.js";

/** Is the process that created a database (lh_test_<pid>_<hex>) still running? */
function creatorAlive(datname: string): boolean {
  const pid = Number(/^lh_test_(\d+)_/.exec(datname)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Drops databases left behind by an earlier interrupted run (their names start with lh_test_):
 * those nobody is connected to and whose creating process has exited. A database between two
 * connections of a test still running elsewhere (another engineer's run) is left alone.
 */
export default async function setup(): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'lh\\_test\\_%' AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)`,
    );
    for (const r of rows.filter((r) => !creatorAlive(r.datname))) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
