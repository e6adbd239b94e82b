#!/usr/bin/env node
// A stand-in for an agent CLI, one turn per invocation, for the dashboard's runs end-to-end test:
// prints a few lines, reports telemetry (tokens, files, a test run) as `overseer_event` lines,
// works ~1.5 s, says it is done. It creates the profile's stop file once `--stop-after N` turns
// have run (0: never), and with `--burst-kb K` prints K KiB at once in turn 1, faster than the
// live stream's budget, so the stream skips bytes that the dashboard must read back by range.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    goal: { type: "string", default: "nothing in particular" },
    "stop-after": { type: "string", default: "0" },
    "burst-kb": { type: "string", default: "0" },
    "turn-ms": { type: "string", default: "1500" },
  },
});
const turn = Number(process.env.OVERSEER_TURN ?? "1");
const stopAfter = Number(values["stop-after"]);
const burstKb = Number(values["burst-kb"]);
const tell = (event) =>
  process.stdout.write(`${JSON.stringify({ overseer_event: event.kind, ...event, kind: undefined })}\n`);

process.stdout.write(`agent turn ${turn}: working on ${values.goal}\n`);
tell({ kind: "file_read", path: "README.md" });
if (turn === 1 && burstKb > 0) {
  let burst = "";
  for (let i = 1; burst.length < burstKb * 1024; i++)
    burst += `burst line ${String(i).padStart(6, "0")} ${"x".repeat(40)}\n`;
  process.stdout.write(burst);
}
process.stdout.write(`agent turn ${turn}: thinking\n`);
tell({ kind: "token_usage", input: 10, output: 5 });
tell({ kind: "file_written", path: `notes/turn-${turn}.md` });
tell({ kind: "test_run_started" });
tell({ kind: "test_run_completed", passed: 3, failed: turn % 3 === 0 ? 1 : 0, skipped: 1 });
tell({ kind: "progress", value: Math.min(1, turn / 10), message: `turn ${turn}` });
await new Promise((resolve) => setTimeout(resolve, Number(values["turn-ms"])));
process.stdout.write(`agent turn ${turn}: done\n`);
if (stopAfter > 0 && turn >= stopAfter) writeFileSync(".stop", `stopped after turn ${turn}\n`);
