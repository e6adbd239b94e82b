/**
 * Reading the `start|end|abort <jobId> <epoch ms>` logs the worker fixture appends, and checking
 * that no two executions of one job overlapped in time: the crash-safety and multi-node tests'
 * proof that a job never runs twice at once.
 */
import { existsSync, readFileSync } from "node:fs";

export interface LogLine {
  what: "start" | "end" | "abort";
  jobId: string;
  at: number;
}

/** A worker fixture's log (a missing file is an empty log). */
export function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const [what, jobId, at] = line.split(" ");
      return { what: what as LogLine["what"], jobId: jobId as string, at: Number(at) };
    });
}

export function count(log: LogLine[], what: LogLine["what"]): number {
  return log.filter((l) => l.what === what).length;
}

export interface Execution {
  process: string;
  jobId: string;
  start: number;
  end: number;
  finished: boolean;
}

/**
 * Pairs each `start` with the next `end` or `abort` of the same job in the same log. An execution
 * that never ended ran until `diedAt`. Two starts of one job without an end between them are
 * already an overlap inside one process and are reported as such.
 */
export function executions(process: string, log: LogLine[], diedAt: number): { runs: Execution[]; problems: string[] } {
  const open = new Map<string, number>();
  const runs: Execution[] = [];
  const problems: string[] = [];
  for (const line of log) {
    if (line.what === "start") {
      if (open.has(line.jobId)) problems.push(`${process} started job ${line.jobId} again while running it`);
      open.set(line.jobId, line.at);
    } else {
      const start = open.get(line.jobId);
      if (start === undefined) {
        problems.push(`${process} logged ${line.what} for job ${line.jobId} without a start`);
        continue;
      }
      open.delete(line.jobId);
      runs.push({ process, jobId: line.jobId, start, end: line.at, finished: line.what === "end" });
    }
  }
  for (const [jobId, start] of open) runs.push({ process, jobId, start, end: diedAt, finished: false });
  return { runs, problems };
}

/** Every pair of executions of the same job whose time spans overlap. */
export function overlaps(runs: Execution[]): string[] {
  const byJob = new Map<string, Execution[]>();
  for (const run of runs) {
    const list = byJob.get(run.jobId);
    if (list) list.push(run);
    else byJob.set(run.jobId, [run]);
  }
  const problems: string[] = [];
  for (const [jobId, list] of byJob) {
    list.sort((x, y) => x.start - y.start);
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1] as Execution;
      const after = list[i] as Execution;
      if (after.start < before.end) {
        problems.push(
          `job ${jobId}: ${after.process} started at ${after.start} while ${before.process} ran it until ${before.end}`,
        );
      }
    }
  }
  return problems;
}
