/**
 * A run's stats as telemetry arrives. Pure: stats and one event in, new stats out; the input is
 * never changed, and an event that does not count for stats returns the same object.
 * `token_usage` reports the tokens of one call (a delta), so usage is summed.
 */
import type { RunStats } from "./run.js";
import type { TelemetryEvent } from "./run-telemetry.js";

export function applyTelemetry(stats: RunStats, event: TelemetryEvent): RunStats {
  switch (event.kind) {
    case "file_read":
      return { ...stats, files: { ...stats.files, read: stats.files.read + 1 } };
    case "file_written":
      return { ...stats, files: { ...stats.files, written: stats.files.written + 1 } };
    case "file_deleted":
      return { ...stats, files: { ...stats.files, deleted: stats.files.deleted + 1 } };
    case "token_usage":
      return {
        ...stats,
        tokens: { input: stats.tokens.input + event.input, output: stats.tokens.output + event.output },
      };
    case "test_run_completed": {
      const { passed, failed, skipped } = event;
      const t = stats.tests;
      return {
        ...stats,
        tests: {
          runs: t.runs + 1,
          passed: t.passed + passed,
          failed: t.failed + failed,
          skipped: t.skipped + skipped,
          last: { passed, failed, skipped },
        },
      };
    }
    default:
      // test_run_started, log_updated, progress and custom events are shown, not counted.
      return stats;
  }
}
