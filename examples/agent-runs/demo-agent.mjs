// A stand-in for a coding agent, for trying runs: each turn "reads" and "writes" a file, runs
// "tests", reports the tokens it used, and prints what it is thinking a line at a time. On the
// turn given as argv[3] (default 5) the tests pass and it says ALL TASKS DONE.
// Telemetry is one JSON line with an `overseer_event` field; everything else is output.
import { writeFileSync } from "node:fs";

const goal = process.argv[2] ?? "tidy up";
const finishAt = Number(process.argv[3] ?? 5);
const turn = Number(process.env.OVERSEER_TURN ?? 1);
const say = (line) => process.stdout.write(`${line}\n`);
const report = (event) =>
  process.stdout.write(`${JSON.stringify({ overseer_event: event.kind, ...event, kind: undefined })}\n`);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

say(`turn ${turn}: working on "${goal}"`);
report({ kind: "file_read", path: "src/app.js" });
for (const thought of ["reading the code", "finding the cause", "writing a fix"]) {
  await pause(400);
  say(`  ${thought}...`);
}
writeFileSync(`attempt-${turn}.txt`, `turn ${turn}: ${goal}\n`);
report({ kind: "file_written", path: `attempt-${turn}.txt` });
report({ kind: "test_run_started" });
await pause(400);
// Ten tests, of which the turns left fail (never more than ten, never fewer than none).
const failed = Math.max(0, Math.min(10, finishAt - turn));
report({ kind: "test_run_completed", passed: 10 - failed, failed, skipped: 1 });
report({ kind: "token_usage", input: 1_200 + 100 * turn, output: 300 + 20 * turn });
if (failed === 0) {
  say("all tests pass: ALL TASKS DONE");
} else {
  say(`${failed} test(s) still failing; another turn`);
}
