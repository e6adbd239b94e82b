/**
 * `overseer requeue --dead`: the re-queue policy (docs/alerts.md) on the local database or,
 * with --url, through POST /api/v1/jobs/requeue-dead. `--dry-run` prints what it would do and
 * why for each job; a real pass records a `job.requeued` event per job it puts back.
 */
import type { Command } from "commander";
import { OverseerError } from "../../core/errors.js";
import type { RequeueDeadInput } from "../../sdk/requeue-dead.js";
import { withBackend } from "../backend.js";
import { action, globals, parseIntOption, printJson, printLine, printTable } from "../context.js";
import { refuseAsWithUrl } from "../remote.js";

interface Flags {
  dead?: boolean;
  maxRequeues: string;
  maxAge: string;
  max: string;
  queue?: string;
  task?: string;
  dryRun?: boolean;
  as?: string;
}

export function registerRequeue(program: Command): void {
  program
    .command("requeue")
    .description("re-queue dead jobs, conservatively: recent ones, not re-queued too often, a few at a time")
    .option("--dead", "re-queue dead jobs (the only kind for now; required)")
    .option("--max-requeues <n>", "leave a job dead once it was re-queued this many times", "3")
    .option("--max-age <duration>", "only jobs that died less than this long ago", "72h")
    .option("--max <n>", "at most this many re-queues in this pass", "10")
    .option("--queue <name>", "only jobs of this queue")
    .option("--task <name>", "only jobs of this task")
    .option("--dry-run", "say what would be re-queued and why; change nothing")
    .option("--as <name>", "recorded on each job.requeued event (local database only; default $USER)")
    .action(
      action(async (flags: Flags, command: Command) => {
        const g = globals(command);
        if (!flags.dead) {
          throw new OverseerError("INVALID_ARGUMENT", "say which jobs: --dead (the only kind re-queued for now)", {
            field: "dead",
          });
        }
        const input: RequeueDeadInput = {
          maxRequeues: parseIntOption(flags.maxRequeues, "--max-requeues", 0, 100),
          maxAge: flags.maxAge,
          max: parseIntOption(flags.max, "--max", 0, 1000),
          ...(flags.queue === undefined ? {} : { queue: flags.queue }),
          ...(flags.task === undefined ? {} : { task: flags.task }),
          dryRun: flags.dryRun === true,
        };
        refuseAsWithUrl({ ...g, as: flags.as }, "the server records the token's name");
        const by = flags.as ?? process.env.USER ?? "cli";
        const result = await withBackend(g, (b) => b.requeueDead(input, by));
        if (g.json) return printJson(result);
        if (result.jobs.length === 0) return printLine("no dead jobs within the max age");
        printTable(
          ["JOB", "TASK", "QUEUE", "REQUEUES", result.dryRun ? "WOULD" : "DONE", "REASON"],
          result.jobs.map((j) => [
            j.jobId,
            j.task,
            j.queue,
            String(j.requeues),
            j.requeue ? "requeue" : "skip",
            j.reason,
          ]),
        );
        printLine(
          result.dryRun
            ? `dry run: would re-queue ${result.requeued} of ${result.jobs.length}`
            : `re-queued ${result.requeued} of ${result.jobs.length}`,
        );
      }),
    );
}
