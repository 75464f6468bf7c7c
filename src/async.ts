/**
 * `p`, or a rejection with `onTimeout()` once `ms` have passed without it settling; the timer is
 * cleared either way. `p` is not cancelled: it runs on and its late outcome is ignored.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
