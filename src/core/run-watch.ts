/**
 * Files a profile watches (`watch: [...]`): Overseer reads them before and after each turn and
 * reports what the turn did to them, whether or not the agent says so: `log_updated` with a
 * bounded unified diff for a file created or changed, `file_deleted` for one removed. Pure: the
 * caller reads the files; this compares the two readings.
 *
 * A reading is a window of the file: before the turn its last `MAX_WATCHED_FILE_BYTES`, after the
 * turn the same bytes on (from the same offset) plus up to `MAX_GROWTH_BYTES` more. So a file only
 * appended to (a log, the common case) is reported as exactly the lines added, however large it
 * is, in time linear in what was added. Anything else (a rewrite) is diffed line by line with a
 * bound on the work (`MAX_EDIT_LENGTH`); past it, the event says the file was rewritten and how
 * its size changed, with no diff. Line numbers count from the start of the window.
 */
import { createRequire } from "node:module";
import type * as Diff from "diff";
import type { TelemetryEvent } from "./run-telemetry.js";

/**
 * The `diff` library, loaded when a run first diffs a file: a process that runs no agent (a
 * worker, most of the CLI) never needs it, and loading it was 2 to 3 MB of every worker's memory.
 */
let diffLibrary: typeof Diff | undefined;
const library = (): typeof Diff => {
  diffLibrary ??= createRequire(import.meta.url)("diff") as typeof Diff;
  return diffLibrary;
};

export const MAX_WATCHED_FILE_BYTES = 256 * 1024;
/** After the turn, how far past the earlier window a watched file is read. */
export const MAX_GROWTH_BYTES = 64 * 1024;
/** A diff longer than this is cut at a line's end, and says so (`diffTruncated`). */
export const MAX_DIFF_CHARS = 4_000;
export const MAX_WATCHED_FILES = 20;
/** Edits (lines added plus removed) a rewrite's diff may find before it gives up. */
export const MAX_EDIT_LENGTH = 2_000;

/** A window of a file: its text from byte `start`, and the file's size. */
export interface WatchedWindow {
  text: string;
  start: number;
  size: number;
}

/** Each watched path's window, or null when the file does not exist (or is not a regular file). */
export type WatchReading = ReadonlyMap<string, WatchedWindow | null>;

/** What a turn did to the watched files, in the order they are watched. */
export function watchedChanges(before: WatchReading, after: WatchReading): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  for (const [path, now] of after) {
    const was = before.get(path) ?? null;
    if (now === null) {
      if (was !== null) events.push({ kind: "file_deleted", path });
      continue;
    }
    const change = describeChange(path, was, now);
    if (change !== null) events.push({ kind: "log_updated", path, ...change });
  }
  return events;
}

/** The change from `was` (null: absent) to `now` as a bounded diff; null when there is none. */
function describeChange(
  path: string,
  was: WatchedWindow | null,
  now: WatchedWindow,
): { diff: string; diffTruncated?: true } | null {
  const old = was === null || was.start !== now.start ? null : was;
  if (old !== null && now.size === old.size && now.text === old.text) return null;
  const readAll = now.start + Buffer.byteLength(now.text) >= now.size;
  // Appended to, after a whole last line: the new lines are the diff.
  if (
    old !== null &&
    now.size >= old.size &&
    now.text.startsWith(old.text) &&
    (old.text === "" || old.text.endsWith("\n"))
  ) {
    return bounded(appendedHunk(old.text, now.text.slice(old.text.length)), !readAll);
  }
  const diff = boundedDiff(path, was?.text ?? "", now.text);
  if (diff === null) {
    return {
      diff: `(rewritten: ${was?.size ?? 0} bytes before, ${now.size} after; too different to diff)`,
      diffTruncated: true,
    };
  }
  return bounded(diff, !readAll);
}

/** A unified hunk adding `added` after `old`'s lines, with its last line as context. */
function appendedHunk(old: string, added: string): string {
  const oldLines = old === "" ? [] : old.slice(0, -1).split("\n");
  const newLines = (added.endsWith("\n") ? added.slice(0, -1) : added).split("\n");
  const last = oldLines.at(-1);
  if (last === undefined) return [`@@ -0,0 +1,${newLines.length} @@`, ...newLines.map((l) => `+${l}`)].join("\n");
  const at = oldLines.length;
  return [`@@ -${at},1 +${at},${newLines.length + 1} @@`, ` ${last}`, ...newLines.map((l) => `+${l}`)].join("\n");
}

/** The hunks of a line diff (no file header), or null when the texts are too different to diff cheaply. */
export function boundedDiff(path: string, before: string, after: string): string | null {
  const patch = library().createTwoFilesPatch(path, path, before, after, "", "", {
    context: 1,
    maxEditLength: MAX_EDIT_LENGTH,
  });
  if (patch === undefined) return null;
  const first = patch.indexOf("@@");
  return first === -1 ? "" : patch.slice(first).trimEnd();
}

/** Cut at MAX_DIFF_CHARS at a line's end; `more`: there is more than the text shows. */
function bounded(diff: string, more: boolean): { diff: string; diffTruncated?: true } {
  if (diff.length <= MAX_DIFF_CHARS) return more ? { diff, diffTruncated: true } : { diff };
  const cut = diff.lastIndexOf("\n", MAX_DIFF_CHARS);
  return { diff: diff.slice(0, cut > 0 ? cut : MAX_DIFF_CHARS), diffTruncated: true };
}
