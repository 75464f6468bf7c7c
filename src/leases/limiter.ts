/**
 * At most `perKey` tasks run at once for each key (a provider configuration, i.e. one target
 * database or cloud account), so a backlog of revocations cannot flood one target while others
 * still make progress. Tasks wait in FIFO order per key.
 */
export function createKeyedLimiter(perKey: number) {
  const lanes = new Map<string, { running: number; waiting: (() => void)[] }>();

  async function acquire(key: string): Promise<void> {
    let lane = lanes.get(key);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      lanes.set(key, lane);
    }
    if (lane.running < perKey) {
      lane.running++;
      return;
    }
    await new Promise<void>((resolve) => lane.waiting.push(resolve));
  }

  function release(key: string): void {
    const lane = lanes.get(key);
    if (!lane) return;
    const next = lane.waiting.shift();
    if (next) next(); // the slot passes straight to the next task
    else if (--lane.running === 0) lanes.delete(key);
  }

  return {
    async run<T>(key: string, task: () => Promise<T>): Promise<T> {
      await acquire(key);
      try {
        return await task();
      } finally {
        release(key);
      }
    },
  };
}

export type KeyedLimiter = ReturnType<typeof createKeyedLimiter>;
