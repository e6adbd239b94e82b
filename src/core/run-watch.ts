/**
 * Files a profile watches (`watch: [...]`): Overseer reads them before and after each turn and
 * reports what the turn did to them, whether or not the agent says so: `log_updated` with a
 * bounded unified diff for a file created or changed, `file_deleted` for one removed. Pure: the
 * caller reads the files (their last `MAX_WATCHED_FILE_BYTES`), this compares the two readings.
 */
import { createTwoFilesPatch } from "diff";
import type { TelemetryEvent } from "./run-telemetry.js";

/** A watched file is compared on its last 256 KiB: an appended log diffs as it should. */
export const MAX_WATCHED_FILE_BYTES = 256 * 1024;
/** A diff longer than this is cut, and says so (`diffTruncated`). */
export const MAX_DIFF_CHARS = 4_000;
export const MAX_WATCHED_FILES = 20;

/** Each watched path's text, or null when the file does not exist. */
export type WatchReading = ReadonlyMap<string, string | null>;

/** What a turn did to the watched files, in the order they are watched. */
export function watchedChanges(before: WatchReading, after: WatchReading): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  for (const [path, now] of after) {
    const was = before.get(path) ?? null;
    if (now === was) continue;
    if (now === null) {
      events.push({ kind: "file_deleted", path });
      continue;
    }
    const { diff, truncated } = boundedDiff(path, was ?? "", now);
    events.push({ kind: "log_updated", path, diff, ...(truncated ? { diffTruncated: true as const } : {}) });
  }
  return events;
}

/** The hunks of a unified diff (no file header), cut to MAX_DIFF_CHARS at a line's end. */
export function boundedDiff(path: string, before: string, after: string): { diff: string; truncated: boolean } {
  const patch = createTwoFilesPatch(path, path, before, after, "", "", { context: 1 });
  // From the first hunk on: the file header names the path, which the event has already.
  const first = patch.indexOf("@@");
  const diff = first === -1 ? "" : patch.slice(first).trimEnd();
  if (diff.length <= MAX_DIFF_CHARS) return { diff, truncated: false };
  const cut = diff.lastIndexOf("\n", MAX_DIFF_CHARS);
  return { diff: diff.slice(0, cut > 0 ? cut : MAX_DIFF_CHARS), truncated: true };
}
