import { readdirSync, readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

const INCLUDE = ["src/**/*.test.ts", "examples/**/*.test.ts", "scripts/**/*.test.ts"];

/**
 * The test files above the store that get their database from the test backend
 * (src/test-support/test-backend.ts, directly or through `testApi` or `runsSandbox`): `npm test`
 * runs them a second time, on PostgreSQL. The store's own suite runs on both backends in every run.
 */
function backendTests(): string[] {
  const uses = /from "(\.\.\/)+(src\/)?test-support\/(test-backend|http|runs)\.js"/;
  return ["src", "examples"].flatMap((root) =>
    readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".test.ts") && !file.includes("node_modules"))
      .map((file) => `${root}/${file}`)
      .filter((path) => uses.test(readFileSync(path, "utf8"))),
  );
}

export default defineConfig({
  test: {
    // PostgreSQL answers, or the run stops at once with one line saying what it needs.
    globalSetup: ["src/test-support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Crash and multi-process tests spawn real processes; two cores cannot
    // run many of those at once without turning timing into noise.
    maxWorkers: 2,
    // OVERSEER_TEST_BACKEND set: everything on that backend. Unset: all on SQLite, then the
    // backend's tests again on PostgreSQL.
    ...(process.env.OVERSEER_TEST_BACKEND
      ? { include: INCLUDE }
      : {
          projects: [
            { extends: true, test: { name: "sqlite", include: INCLUDE } },
            {
              extends: true,
              test: { name: "postgres", include: backendTests(), env: { OVERSEER_TEST_BACKEND: "postgres" } },
            },
          ],
        }),
  },
});
