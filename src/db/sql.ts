/**
 * The smallest SQL surface the migrator and a few raw paths need, implemented by both backends
 * (a dedicated pg connection, or the embedded PGlite instance).
 */
export interface SqlSession {
  /** One parameterised statement (extended protocol). */
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A script of several statements (simple protocol); no parameters. */
  exec(sql: string): Promise<void>;
  release(): Promise<void>;
}
