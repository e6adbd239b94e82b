/**
 * Test runs seen from outside: whether a shell command an agent ran is a test command, and the
 * passed / failed / skipped counts in the summary its runner printed. Pure and shared by every
 * adapter. A summary we cannot read gives null, never a guess: a wrong count would pass for
 * progress (or its lack) in the run's budget.
 */

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Test runners by how a command segment starts, once wrappers are taken off (`bash -lc '...'`,
 * `cd x &&`, `FOO=1`, `timeout 60`, a path before the program).
 */
const TEST_RUNNERS: readonly RegExp[] = [
  /^(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test(?:[:\s]|$)/,
  /^npm\s+t(?:\s|$)/,
  /^(?:(?:npx|bunx|yarn|pnpm(?:\s+(?:exec|dlx))?|npm\s+exec)\s+)?(?:vitest|jest|mocha)(?:\s|$)/,
  /^(?:(?:uv\s+run\s+|poetry\s+run\s+)?python3?\s+-m\s+|uv\s+run\s+|poetry\s+run\s+)?pytest(?:\s|$)/,
  /^go\s+test(?:\s|$)/,
  /^cargo\s+(?:test|nextest\s+run)(?:\s|$)/,
];

const SHELL_WRAPPER = /^(?:\S*\/)?(?:bash|sh|zsh)\s+-l?c\s+(['"])([\s\S]*)\1$/;
const LEADING_NOISE = /^(?:[({]\s*|[A-Za-z_][A-Za-z0-9_]*=\S*\s+|env\s+|time\s+|timeout\s+\d+[smh]?\s+)+/;

/** Whether `command` (a shell command line) runs tests with a runner we know. */
export function isTestCommand(command: string): boolean {
  let text = command.trim();
  const wrapped = SHELL_WRAPPER.exec(text);
  if (wrapped) text = wrapped[2]!;
  return text
    .split(/&&|\|\||[;|\n]/)
    .map((segment) =>
      segment
        .trim()
        .replace(LEADING_NOISE, "")
        .replace(/^\S*\//, ""),
    )
    .some((segment) => TEST_RUNNERS.some((runner) => runner.test(segment)));
}

const ESC = String.fromCharCode(0x1b);
/** Colour and cursor codes: runners print them even into pipes when FORCE_COLOR is set. */
const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[ -/]*[@-~]`, "g");

/**
 * The counts in a test runner's summary, from its output (the last summary wins where a runner
 * prints one per run; cargo's per-binary lines are added up). Null when no summary is found.
 */
export function parseTestSummary(output: string): TestCounts | null {
  const text = output.replace(ANSI, "").replace(/\r\n?/g, "\n");
  for (const parse of [cargo, jest, vitest, pytest, goTest]) {
    const counts = parse(text);
    // A count past 2^53 is not a count a runner printed for real.
    if (counts !== null) return Object.values(counts).every(Number.isSafeInteger) ? counts : null;
  }
  return null;
}

/** `test result: ok. 5 passed; 1 failed; 0 ignored; ...`, once per test binary. */
function cargo(text: string): TestCounts | null {
  const lines = [...text.matchAll(/^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/gm)];
  if (lines.length === 0) return null;
  const sum = { passed: 0, failed: 0, skipped: 0 };
  for (const m of lines) {
    sum.passed += Number(m[1]);
    sum.failed += Number(m[2]);
    sum.skipped += Number(m[3]);
  }
  return sum;
}

/** `Tests:       1 failed, 2 skipped, 10 passed, 13 total`. */
function jest(text: string): TestCounts | null {
  const line = last(text.matchAll(/^[ \t]*Tests:[ \t]+(.*\d+ total.*)$/gm));
  return line === null
    ? null
    : counted(line, { passed: "passed", failed: "failed", skipped: "skipped", todo: "skipped" });
}

/** `Tests  3 failed | 10 passed (13)` (not `Test Files  ...`). */
function vitest(text: string): TestCounts | null {
  const line = last(text.matchAll(/^[ \t]*Tests {2,}(.*\d+ (?:passed|failed|skipped|todo).*)\(\d+\)[ \t]*$/gm));
  return line === null
    ? null
    : counted(line, { passed: "passed", failed: "failed", skipped: "skipped", todo: "skipped" });
}

/**
 * `==== 2 failed, 10 passed, 1 skipped in 0.52s ====` (or without the rules, with -q). Errors
 * count as failures, xfailed as skipped and xpassed as passed; warnings and deselected are not tests.
 */
function pytest(text: string): TestCounts | null {
  const line = last(text.matchAll(/^=*[ \t]*((?:\d+ [a-z]+(?:, )?)+|no tests ran) in \d+(?:\.\d+)?s\b[^\n]*$/gm));
  if (line === null) return null;
  if (line === "no tests ran") return { passed: 0, failed: 0, skipped: 0 };
  return counted(line, {
    passed: "passed",
    xpassed: "passed",
    failed: "failed",
    error: "failed",
    errors: "failed",
    skipped: "skipped",
    xfailed: "skipped",
  });
}

/**
 * `go test -v` prints `=== RUN` and then `--- PASS: TestX` for each test: top-level tests are
 * counted (subtests are indented and already in their parent's verdict). Without -v only
 * packages are reported, `ok  pkg 0.01s` or `FAIL pkg 0.02s`: then a package counts as one test.
 */
function goTest(text: string): TestCounts | null {
  if (/^=== RUN\s/m.test(text)) {
    const of = (verdict: string) => text.match(new RegExp(`^--- ${verdict}: `, "gm"))?.length ?? 0;
    const counts = { passed: of("PASS"), failed: of("FAIL"), skipped: of("SKIP") };
    return counts.passed + counts.failed + counts.skipped === 0 ? null : counts;
  }
  const passed = text.match(/^ok\s+\S+\s+(?:\d+(?:\.\d+)?s|\(cached\))/gm)?.length ?? 0;
  const failed = text.match(/^FAIL\s+\S+\s+(?:\d+(?:\.\d+)?s|\[[a-z ]+\])/gm)?.length ?? 0;
  return passed + failed === 0 ? null : { passed, failed, skipped: 0 };
}

function last(matches: IterableIterator<RegExpMatchArray>): string | null {
  let line: string | null = null;
  for (const m of matches) line = m[1] ?? null;
  return line;
}

/** Adds up `N word` pairs of a summary line into the count each word stands for. */
function counted(line: string, words: Record<string, keyof TestCounts>): TestCounts {
  const counts: TestCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const m of line.matchAll(/(\d+) ([a-z]+)/g)) {
    const into = Object.hasOwn(words, m[2]!) ? words[m[2]!] : undefined;
    if (into !== undefined) counts[into] += Number(m[1]);
  }
  return counts;
}
