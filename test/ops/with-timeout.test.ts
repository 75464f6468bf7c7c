import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { withTimeout } from "../../src/async.js";

/** The one timeout helper (revoker, rotate-root, readiness), on vitest's fake timers: no real waiting. */
describe("withTimeout", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  class Late extends Error {}

  it("passes a value or a failure that comes in time through, and clears its timer", async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, () => new Late())).resolves.toBe(42);
    await expect(withTimeout(Promise.reject(new Error("boom")), 1000, () => new Late())).rejects.toThrow("boom");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the caller's error once ms have passed, not before; a late outcome is ignored", async () => {
    let settle!: (v: string) => void;
    const slow = new Promise<string>((resolve) => (settle = resolve));
    const raced = withTimeout(slow, 1000, () => new Late("no answer within 1000 ms"));
    let done = false;
    const seen = raced.then((v) => ({ v }), (e: unknown) => ({ e })).finally(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect({ done, timers: vi.getTimerCount() }).toEqual({ done: false, timers: 1 });
    await vi.advanceTimersByTimeAsync(1);
    const outcome = await seen;
    expect(outcome).toEqual({ e: expect.any(Late) });
    expect((outcome as { e: Error }).e.message).toBe("no answer within 1000 ms");
    settle("too late");
    await expect(raced).rejects.toBeInstanceOf(Late);
  });
});
