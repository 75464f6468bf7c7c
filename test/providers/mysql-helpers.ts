import mysql from "mysql2/promise";

/** The local MariaDB (127.0.0.1:3306, root without a password). */
export const MYSQL_HOST = "127.0.0.1";

export function mysqlRoot(): Promise<mysql.Connection> {
  return mysql.createConnection({ host: MYSQL_HOST, port: 3306, user: "root", password: "" });
}

/** A real login as `user` (a new connection), into `database`. */
export function mysqlLogin(user: string, password: string, database: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: MYSQL_HOST, port: 3306, user, password, database, connectTimeout: 5000 });
}

/** Hosts of the accounts named `name` (none: the user does not exist). */
export async function mysqlUserHosts(root: mysql.Connection, name: string): Promise<string[]> {
  const [rows] = await root.query<mysql.RowDataPacket[]>("SELECT Host AS host FROM mysql.user WHERE User = ? ORDER BY Host", [name]);
  return rows.map((r) => String(r["host"]));
}
