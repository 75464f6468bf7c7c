import { Redis } from "ioredis";

/** The local Redis (127.0.0.1:6379, `default` user without a password). */
export async function redisRoot(): Promise<Redis> {
  const c = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await c.connect();
  return c;
}

/** A real login as `user` on a new connection; rejects with Redis's error (WRONGPASS…), no retries. */
export async function redisLogin(username: string, password: string): Promise<Redis> {
  let last: unknown;
  const c = new Redis({ host: "127.0.0.1", port: 6379, username, password, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  c.on("error", (err: unknown) => void (last = err));
  try {
    await c.connect();
  } catch (err) {
    c.disconnect();
    throw last ?? err;
  }
  return c;
}

/** Creates (or replaces) an ACL user with a password and the given rules. */
export async function redisAclUser(root: Redis, name: string, password: string, rules: string[]): Promise<void> {
  await root.call("ACL", ["SETUSER", name, "reset", "on", `>${password}`, ...rules]);
}

/** Deletes every ACL user whose name starts with `prefix` (test cleanup). */
export async function deleteAclUsers(root: Redis, prefix: string): Promise<void> {
  const users = ((await root.call("ACL", ["USERS"])) as string[]).filter((u) => u.startsWith(prefix));
  if (users.length) await root.call("ACL", ["DELUSER", ...users]);
}
