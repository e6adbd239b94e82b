import { defineConfig } from "vitest/config";

// `npm run chaos`: the crash scenarios of src/chaos, one file at a time (each runs several
// processes of its own; two cores cannot run more at once without turning timing into noise).
export default defineConfig({
  test: {
    include: ["src/chaos/**/*.chaos.ts"],
    testTimeout: 90_000,
    hookTimeout: 30_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
