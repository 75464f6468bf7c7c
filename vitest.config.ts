import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file gets its own databases, so files run in parallel safely.
    fileParallelism: true,
    maxWorkers: 4,
    globalSetup: ["test/support/global-setup.ts"],
  },
});
