/**
 * Test commands and runners' summaries. The summaries are the lines each runner prints at the
 * end of a run, as their documentation and their own output show them (vitest 3, jest 29,
 * pytest 8, go 1.22, cargo 1.80), copied with the surrounding lines that must not confuse us.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTestCommand, parseTestSummary, type TestCounts } from "./test-summary.js";

describe("isTestCommand", () => {
  it.each<[string, boolean]>([
    ["npm test", true],
    ["npm run test", true],
    ["npm run test:unit -- --reporter=dot", true],
    ["npm t", true],
    ["pnpm test", true],
    ["yarn test --watch=false", true],
    ["bun test", true],
    ["npx vitest run src/parser.test.ts", true],
    ["vitest", true],
    ["./node_modules/.bin/vitest run", true],
    ["npx jest --ci", true],
    ["yarn jest", true],
    ["pnpm exec mocha", true],
    ["pytest -q tests/", true],
    ["python -m pytest -x", true],
    ["python3 -m pytest", true],
    ["uv run pytest", true],
    ["poetry run pytest -k parse", true],
    ["go test ./...", true],
    ["cargo test --all", true],
    ["cargo nextest run", true],
    ["cd packages/calc && npm test", true],
    ["npm test 2>&1 | tail -20", true],
    ["CI=1 FORCE_COLOR=0 npx vitest run", true],
    ["timeout 120 go test ./...", true],
    ["bash -lc 'npm test'", true],
    ["/bin/zsh -lc 'cd calc && cargo test'", true],
    ['bash -lc "pytest -q"', true],
    ["(cd api && go test ./...)", true],
    // Not test runs.
    ["npm install", false],
    ["npm install -D vitest", false],
    ["npm run build", false],
    ["npm run testing-library-setup", false],
    ["cat package.json", false],
    ["grep -rn 'npm test' README.md", false],
    ["echo pytest", false],
    ["go build ./...", false],
    ["cargo build", false],
    ["git commit -m 'go test fixes'", false],
    ["bash -lc 'ls -la'", false],
    ["", false],
  ])("%j → %s", (command, expected) => {
    expect(isTestCommand(command)).toBe(expected);
  });
});

describe("parseTestSummary", () => {
  const counts = (passed: number, failed: number, skipped: number): TestCounts => ({ passed, failed, skipped });

  it.each<[string, string, TestCounts | null]>([
    [
      "vitest, failures",
      " Test Files  1 failed | 2 passed (3)\n      Tests  3 failed | 10 passed (13)\n   Start at  10:42:17\n   Duration  1.2s\n",
      counts(10, 3, 0),
    ],
    ["vitest, all passed", " Test Files  3 passed (3)\n      Tests  13 passed (13)\n", counts(13, 0, 0)],
    ["vitest, skipped and todo", "      Tests  1 failed | 9 passed | 2 skipped | 1 todo (13)\n", counts(9, 1, 3)],
    [
      "vitest with colours",
      "\u001b[2m      Tests \u001b[22m \u001b[1m\u001b[31m1 failed\u001b[39m\u001b[22m\u001b[2m | \u001b[22m\u001b[1m\u001b[32m4 passed\u001b[39m\u001b[22m\u001b[90m (5)\u001b[39m\n",
      counts(4, 1, 0),
    ],
    [
      "jest",
      "Test Suites: 1 failed, 2 passed, 3 total\nTests:       1 failed, 2 skipped, 10 passed, 13 total\nSnapshots:   0 total\nTime:        1.5 s\n",
      counts(10, 1, 2),
    ],
    ["jest, all passed", "Tests:       7 passed, 7 total\n", counts(7, 0, 0)],
    [
      "pytest",
      "tests/test_parse.py ..F.\n=================== 2 failed, 10 passed, 1 skipped in 0.52s ===================\n",
      counts(10, 2, 1),
    ],
    ["pytest -q", "..........\n10 passed in 0.05s\n", counts(10, 0, 0)],
    [
      "pytest, errors, xfail, xpass and warnings",
      "===== 1 failed, 5 passed, 2 errors, 1 xfailed, 1 xpassed, 3 warnings in 2.10s (0:00:02) =====\n",
      counts(6, 3, 1),
    ],
    [
      "pytest, nothing collected",
      "============================ no tests ran in 0.01s ============================\n",
      counts(0, 0, 0),
    ],
    [
      "cargo, one binary",
      "running 6 tests\ntest result: FAILED. 5 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n",
      counts(5, 1, 0),
    ],
    [
      "cargo, unit tests and doc tests added up",
      "test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n   Doc-tests calc\ntest result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.30s\n",
      counts(7, 0, 1),
    ],
    [
      "go test -v: top-level tests, not subtests",
      "=== RUN   TestParse\n=== RUN   TestParse/negative\n--- FAIL: TestParse (0.00s)\n    --- FAIL: TestParse/negative (0.00s)\n=== RUN   TestEval\n--- PASS: TestEval (0.00s)\n=== RUN   TestSlow\n--- SKIP: TestSlow (0.00s)\nFAIL\nFAIL\texample.com/calc\t0.004s\n",
      counts(1, 1, 1),
    ],
    [
      "go test without -v: packages",
      "ok  \texample.com/calc/eval\t0.003s\n--- FAIL: TestParse (0.00s)\nFAIL\nFAIL\texample.com/calc/parse\t0.002s\nok  \texample.com/calc/lex\t(cached)\n?   \texample.com/calc/cmd\t[no test files]\n",
      counts(2, 1, 0),
    ],
    ["go, a package that does not build", "FAIL\texample.com/calc [build failed]\n", counts(0, 1, 0)],
    ["CRLF line breaks", "Tests:       2 passed, 2 total\r\n", counts(2, 0, 0)],
    // Nothing we can read: no completed test run rather than a guess.
    ["a crash before the summary", "> vitest run\n\nError: Cannot find module 'vite'\n", null],
    ["no output", "", null],
    ["prose that mentions tests", "All tests passed, I think.\nTests were run yesterday.\n", null],
    ["vitest's file line alone", " Test Files  2 passed (2)\n", null],
    ["a count too large to be real", "Tests:       99999999999999999999 passed, 99999999999999999999 total\n", null],
  ])("%s", (_label, output, expected) => {
    expect(parseTestSummary(output)).toEqual(expected);
  });

  it("takes the last summary when a runner printed several", () => {
    const twice = "      Tests  1 failed | 3 passed (4)\n...\n      Tests  4 passed (4)\n";
    expect(parseTestSummary(twice)).toEqual(counts(4, 0, 0));
  });

  it("never throws and returns counts that are non-negative integers", () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        "Tests:  ",
        "Tests  ",
        " passed",
        " failed",
        " total",
        " in 0.1s",
        "=== RUN ",
        "--- PASS: ",
        "\n",
      ),
      fc.nat().map(String),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        const result = parseTestSummary(parts.join(""));
        if (result !== null) {
          for (const v of Object.values(result)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
