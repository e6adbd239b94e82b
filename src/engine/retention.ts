/**
 * Retention: finished jobs, finished runs, closed alerts and events are deleted by age and count,
 * optionally archived to an NDJSON file first (each line `{"type":"job",...}`, `{"type":"run",...}`
 * with the run's turns but not its output, `{"type":"alert",...}` with its notifications, or
 * `{"type":"event",...}`), so the database does not grow without bound. A batch is written and
 * fsynced to the archive before it is deleted; if the process dies in between, the next run
 * archives it again.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { PruneBatch, PruneResult, RetentionPolicy, Store } from "../store/store.js";

const DAY = 86_400_000;

export const DEFAULT_RETENTION: RetentionPolicy = {
  jobs: { succeeded: { maxAgeMs: 7 * DAY }, dead: { maxAgeMs: 30 * DAY }, cancelled: { maxAgeMs: 7 * DAY } },
  events: { maxAgeMs: 30 * DAY },
  runs: { maxAgeMs: 30 * DAY },
  alerts: { maxAgeMs: 90 * DAY },
  lessons: { maxAgeMs: 365 * DAY },
};

export async function pruneWithArchive(
  store: Store,
  policy: RetentionPolicy,
  options: { archivePath?: string; dryRun?: boolean } = {},
): Promise<PruneResult> {
  if (options.dryRun || options.archivePath === undefined) {
    return store.prune(policy, { dryRun: options.dryRun ?? false });
  }
  const fd = openSync(options.archivePath, "a");
  try {
    return await store.prune(policy, {
      archive: (batch: PruneBatch) => {
        const lines = [
          ...batch.jobs.map(({ job, attempts }) => JSON.stringify({ type: "job", job, attempts })),
          ...batch.runs.map(({ run, turns }) => JSON.stringify({ type: "run", run, turns })),
          ...batch.alerts.map(({ alert, notifications }) => JSON.stringify({ type: "alert", alert, notifications })),
          ...batch.lessons.map((lesson) => JSON.stringify({ type: "lesson", lesson })),
          ...batch.events.map((event) => JSON.stringify({ type: "event", event })),
        ];
        if (lines.length === 0) return;
        writeSync(fd, `${lines.join("\n")}\n`);
        fsyncSync(fd);
      },
    });
  } finally {
    closeSync(fd);
  }
}
