/** `overseer jobs list|show|retry|retry-dead|cancel|discard`. */
import type { Command } from "commander";
import type { Job } from "../../client/index.js";
import { OverseerError } from "../../core/errors.js";
import { validateName } from "../../core/job-options.js";
import { type PayloadMatch, parsePayloadMatches } from "../../core/payload-filter.js";
import { JOB_STATES, type JobState } from "../../core/types.js";
import { type Backend, withBackend } from "../backend.js";
import { action, globals, parseIntOption, parseList, printJson, printLine, printTable } from "../context.js";
import { describeJob } from "./enqueue.js";

export function registerJobs(program: Command): void {
  const jobs = program.command("jobs").description("list and operate on jobs");

  jobs
    .command("list")
    .description("list jobs, newest first")
    .option("--state <states>", `comma-separated: ${JOB_STATES.join(", ")}`)
    .option("--queue <name>", "only this queue")
    .option("--task <name>", "only this task")
    .option(
      "--payload <path=value>",
      "only jobs whose payload holds this value, e.g. phone=+15550100 or customer.id=42 (repeatable, up to 5)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--limit <n>", "at most this many (1-1000)", "50")
    .option("--before <id>", "jobs older than this id (the next page)")
    .action(
      action(
        async (
          flags: { state?: string; queue?: string; task?: string; payload?: string[]; limit: string; before?: string },
          command,
        ) => {
          const states = parseStates(flags.state);
          const limit = parseIntOption(flags.limit, "--limit", 1, 1000);
          if (flags.queue !== undefined) validateName(flags.queue, "queue");
          if (flags.task !== undefined) validateName(flags.task, "task");
          const payload = parsePayloadFlags(flags.payload ?? []);
          const g = globals(command);
          const list = await withBackend(g, (b) =>
            b.listJobs({ states, queue: flags.queue, task: flags.task, payload, limit, beforeId: flags.before }),
          );
          if (g.json) return printJson(list);
          if (list.length === 0) return printLine("no jobs");
          printTable(
            ["ID", "TASK", "QUEUE", "STATE", "ATTEMPTS", "PRIORITY", "CREATED"],
            list.map((j) => [
              j.id,
              j.task,
              j.queue,
              j.state,
              `${j.attempts}/${j.maxAttempts}`,
              String(j.priority),
              j.createdAt,
            ]),
          );
        },
      ),
    );

  jobs
    .command("show")
    .description("show one job with its attempts and events")
    .argument("<id>")
    .action(
      action(async (id: string, _flags, command: Command) => {
        const g = globals(command);
        const detail = await withBackend(g, (b) => b.jobDetail(id));
        if (g.json) return printJson(detail);
        const { job, attempts, events } = detail;
        printLine(describeJob(job));
        printLine(
          `  attempts ${job.attempts}/${job.maxAttempts}  created ${job.createdAt}  finished ${job.finishedAt ?? "-"}`,
        );
        printLine(`  payload  ${JSON.stringify(job.payload)}`);
        if (job.result !== null) printLine(`  result   ${JSON.stringify(job.result)}`);
        if (job.progress !== null) printLine(`  progress ${JSON.stringify(job.progress)}`);
        if (job.lastError) printLine(`  error    ${job.lastError.code}: ${job.lastError.message}`);
        for (const a of attempts) {
          const error = a.error ? `  ${a.error.code}: ${a.error.message}` : "";
          printLine(`  attempt ${a.number} ${a.outcome} on ${a.workerId} at ${a.startedAt}${error}`);
        }
        for (const e of events) printLine(`  #${e.seq} ${e.at} ${e.kind} ${JSON.stringify(e.data)}`);
      }),
    );

  const single = (name: string, description: string, run: (b: Backend, id: string) => Promise<Job | string>) =>
    jobs
      .command(name)
      .description(description)
      .argument("<id>")
      .action(
        action(async (id: string, _flags, command: Command) => {
          const g = globals(command);
          const out = await withBackend(g, (b) => run(b, id));
          if (g.json) printJson(typeof out === "string" ? { id, result: out } : out);
          else printLine(typeof out === "string" ? out : describeJob(out));
        }),
      );

  single("retry", "run a dead or cancelled job again with a fresh set of attempts", (o, id) => o.retry(id));
  single("cancel", "cancel a job: at once if waiting, through its signal if running", async (o, id) => {
    const { job, effect } = await o.cancel(id);
    return effect === "cancelled" ? job : `cancel requested for running job ${job.id}; its handler is being aborted`;
  });
  single("discard", "delete a finished job", async (o, id) => {
    await o.discard(id);
    return `discarded ${id}`;
  });

  jobs
    .command("retry-dead")
    .description("retry every dead job matching the filter")
    .option("--queue <name>", "only this queue")
    .option("--task <name>", "only this task")
    .option("--limit <n>", "at most this many")
    .action(
      action(async (flags: { queue?: string; task?: string; limit?: string }, command: Command) => {
        const limit = flags.limit === undefined ? undefined : parseIntOption(flags.limit, "--limit");
        const g = globals(command);
        const n = await withBackend(g, (b) => b.retryDead({ queue: flags.queue, task: flags.task, limit }));
        if (g.json) printJson({ retried: n });
        else printLine(`retried ${n} dead job(s)`);
      }),
    );
}

export function parseStates(value: string | undefined): JobState[] | undefined {
  const list = parseList(value);
  if (list === undefined) return undefined;
  for (const s of list) {
    if (!(JOB_STATES as readonly string[]).includes(s)) {
      throw new OverseerError(
        "INVALID_STATE_FILTER",
        `unknown state "${s}"; expected one of ${JOB_STATES.join(", ")}`,
        {
          field: "state",
          value: s,
        },
      );
    }
  }
  return list as JobState[];
}

/** `--payload path=value` flags as payload matches: INVALID_ARGUMENT for one without `=` or with a bad path. */
function parsePayloadFlags(flags: readonly string[]): PayloadMatch[] {
  return parsePayloadMatches(
    flags.map((flag): [string, string] => {
      const at = flag.indexOf("=");
      if (at <= 0) {
        throw new OverseerError(
          "INVALID_ARGUMENT",
          `--payload must be path=value, e.g. phone=+15550100; got "${flag}"`,
          {
            field: "payload",
          },
        );
      }
      return [`payload.${flag.slice(0, at)}`, flag.slice(at + 1)];
    }),
  );
}
