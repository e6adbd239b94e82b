/**
 * The live status line of `overseer start`. In a terminal it rewrites one line in place, so the
 * banner above it (the URL, a one-time admin token) stays on screen; when stdout is a file or a
 * pipe it is off, since a line a second would only fill a log.
 */
import type { Overseer } from "../sdk/overseer.js";

/** Carriage return, then erase the whole line (ANSI EL2): the next write replaces the line. */
export const REWRITE_LINE = "\r\x1b[2K";

/** Whether to show the status line: asked for (`--no-summary` turns it off) and stdout is a terminal. */
export function showSummary(flag: boolean | undefined, stdoutIsTty: boolean | undefined): boolean {
  return flag !== false && stdoutIsTty === true;
}

export interface SummaryCounts {
  queued: number;
  running: number;
  scheduled: number;
  succeeded: number;
  dead: number;
  cancelled: number;
}

/** One status line (no newline), cut to the terminal's width so that it never wraps, which would defeat the rewrite. */
export function formatSummary(
  at: number,
  counts: SummaryCounts,
  ratePerSecond: number,
  workers: number,
  columns?: number,
): string {
  const time = new Date(at).toISOString().slice(11, 19);
  const line =
    `${time}  queued ${counts.queued}  running ${counts.running}  scheduled ${counts.scheduled}  ` +
    `succeeded ${counts.succeeded} (+${ratePerSecond.toFixed(0)}/s)  dead ${counts.dead}  cancelled ${counts.cancelled}  ` +
    `workers ${workers}`;
  return columns !== undefined && columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
}

export interface Summary {
  /** Stops the updates and erases the status line, so that whatever is printed next starts on a clean line. Idempotent. */
  stop(): void;
}

export function startSummary(overseer: Overseer, out: NodeJS.WriteStream, onError: (err: unknown) => void): Summary {
  let lastSucceeded: number | null = null;
  let lastAt = Date.now();
  let stopped = false;
  const tick = async () => {
    const counts = await overseer.countJobs();
    const workers = (await overseer.listWorkers()).filter((w) => w.status === "active" || w.status === "quiet").length;
    if (stopped) return;
    const now = Date.now();
    const rate = lastSucceeded === null ? 0 : ((counts.succeeded - lastSucceeded) * 1000) / (now - lastAt);
    lastSucceeded = counts.succeeded;
    lastAt = now;
    out.write(`${REWRITE_LINE}${formatSummary(now, counts, rate, workers, out.columns)}`);
  };
  const timer = setInterval(() => tick().catch(onError), 1_000);
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      out.write(REWRITE_LINE);
    },
  };
}
