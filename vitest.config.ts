import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "examples/**/*.test.ts", "scripts/**/*.test.ts"],
    // PostgreSQL answers, or the run stops at once with one line saying what it needs.
    globalSetup: ["src/test-support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Crash and multi-process tests spawn real processes; two cores cannot
    // run many of those at once without turning timing into noise.
    maxWorkers: 2,
  },
});
