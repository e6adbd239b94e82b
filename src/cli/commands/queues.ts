/**
 * `overseer queues list|pause|resume|reset-breaker`, `overseer workers [list|show|quiet|stop|resume]`
 * and `overseer concurrency`.
 */
import type { Command } from "commander";
import type { QueueBreaker } from "../../core/breaker.js";
import { type WorkerView, withBackend } from "../backend.js";
import { action, type GlobalOptions, globals, parseIntOption, printJson, printLine, printTable } from "../context.js";

export function registerQueues(program: Command): void {
  const queues = program.command("queues").description("list, pause and resume queues, reset their breakers");
  queues
    .command("list")
    .description("queues with job counts by state")
    .action(
      action(async (_flags, command: Command) => {
        const g = globals(command);
        const list = await withBackend(g, (b) => b.listQueues());
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine("no queues yet");
        printTable(
          [
            "QUEUE",
            "PAUSED",
            "BREAKER",
            "SCHEDULED",
            "QUEUED",
            "RUNNING",
            "AWAITING APPROVAL",
            "SUCCEEDED",
            "DEAD",
            "CANCELLED",
          ],
          list.map((q) => [
            q.name,
            q.paused ? "yes" : "no",
            breakerText(q.breaker),
            ...(["scheduled", "queued", "running", "awaiting_approval", "succeeded", "dead", "cancelled"] as const).map(
              (s) => String(q.counts[s]),
            ),
          ]),
        );
      }),
    );
  for (const verb of ["pause", "resume"] as const) {
    queues
      .command(verb)
      .description(verb === "pause" ? "stop workers claiming from a queue" : "let workers claim from a queue again")
      .argument("<name>")
      .action(
        action(async (name: string, _flags, command: Command) => {
          const g = globals(command);
          const q = await withBackend(g, (b) => b.setQueuePaused(name, verb === "pause"));
          if (g.json) printJson(q);
          else printLine(`queue ${q.name} ${q.paused ? "paused" : "resumed"}`);
        }),
      );
  }

  queues
    .command("reset-breaker")
    .description("close a queue's circuit breaker: its jobs run again at once, without a probe")
    .argument("<name>")
    .action(
      action(async (name: string, _flags, command: Command) => {
        const g = globals(command);
        const q = await withBackend(g, (b) => b.resetBreaker(name, process.env.USER ?? "cli"));
        if (g.json) printJson(q);
        else printLine(`queue ${q.name}: circuit breaker closed`);
      }),
    );

  const workers = program
    .command("workers")
    .description("registered workers (list by default); show one, quiet, stop or resume it")
    .action(
      action(async (_flags, command: Command) => {
        await listWorkers(globals(command));
      }),
    );
  workers
    .command("list")
    .description("workers: status, utilization, processed and failed counts, heartbeats")
    .action(
      action(async (_flags, command: Command) => {
        await listWorkers(globals(command));
      }),
    );
  workers
    .command("show")
    .description("one worker and the jobs it runs")
    .argument("<id>")
    .action(
      action(async (id: string, _flags, command: Command) => {
        const g = globals(command);
        const w = await withBackend(g, (b) => b.getWorker(id));
        if (g.json) return printJson(w);
        printWorker(w);
      }),
    );
  const verbs = {
    quiet: "claim nothing more and finish the jobs it runs (read at its next heartbeat)",
    stop: "go quiet, then stop gracefully once its jobs finish",
    resume: "let a quiet worker claim again",
  } as const;
  for (const verb of ["quiet", "stop", "resume"] as const) {
    workers
      .command(verb)
      .description(verbs[verb])
      .argument("<id>")
      .action(
        action(async (id: string, _flags, command: Command) => {
          const g = globals(command);
          const w = await withBackend(g, (b) => b.commandWorker(id, verb, process.env.USER ?? "cli"));
          if (g.json) return printJson(w);
          const asked = { quiet: "asked to go quiet", stop: "asked to stop", resume: "asked to resume claiming" }[verb];
          printLine(`worker ${w.id} (${w.name}) ${asked}; status ${w.status}`);
        }),
      );
  }

  program
    .command("concurrency")
    .description("concurrency keys with unfinished jobs: running, waiting and the limit")
    .option("--busiest", "the busiest keys (running, then waiting jobs) instead of the first by name")
    .option("--limit <n>", "at most this many keys, 1-500", "50")
    .action(
      action(async (flags: { busiest?: boolean; limit: string }, command: Command) => {
        const g = globals(command);
        const limit = parseIntOption(flags.limit, "--limit", 1, 500);
        const page = await withBackend(g, (b) => b.concurrency({ busiest: flags.busiest === true, limit }));
        if (g.json) return printJson(page);
        if (page.keys === 0) return printLine("no concurrency key has unfinished jobs");
        printTable(
          ["KEY", "RUNNING", "LIMIT", "WAITING"],
          page.items.map((k) => [k.key, String(k.running), String(k.limit), String(k.waiting)]),
        );
        const shown =
          page.items.length < page.keys ? `${page.items.length} of ${page.keys} keys shown` : `${page.keys} keys`;
        const held = page.limitedJobs === 1 ? "1 queued job" : `${page.limitedJobs} queued jobs`;
        printLine(`${shown}; ${held} held back by a full key`);
      }),
    );
}

/** `closed`, `open until 09:12:00Z → sms` or `half-open (probe 01J…)`. */
function breakerText(breaker: QueueBreaker | null): string {
  if (breaker === null) return "closed";
  const divert = breaker.trip.divertTo === null ? "" : ` → ${breaker.trip.divertTo}`;
  if (breaker.state === "open") return `open until ${breaker.probeAt}${divert}`;
  return `half-open (probe ${breaker.probeJobId ?? "none due"})${divert}`;
}

async function listWorkers(g: GlobalOptions): Promise<void> {
  const list = await withBackend(g, (b) => b.listWorkers());
  if (g.json) {
    printJson(list);
    return;
  }
  if (list.length === 0) {
    printLine("no workers have registered");
    return;
  }
  printTable(
    ["ID", "NAME", "STATUS", "BUSY", "PROCESSED", "FAILED", "HEARTBEAT", "TASKS"],
    list.map((w) => [
      w.id,
      w.name,
      statusText(w),
      `${w.busy}/${w.concurrency ?? 0}`,
      String(w.processed),
      String(w.failed),
      w.heartbeatAt,
      (w.tasks ?? []).join(","),
    ]),
  );
}

/** The status, and a command it has not acted on yet. */
function statusText(w: WorkerView): string {
  const pending = w.command !== null && !(w.command === "quiet" && w.status === "quiet");
  return pending && (w.status === "active" || w.status === "quiet") ? `${w.status} (${w.command} asked)` : w.status;
}

function printWorker(w: WorkerView): void {
  printLine(`worker ${w.id} (${w.name}) on ${w.host}, pid ${w.pid}`);
  printLine(`  status ${statusText(w)}, heartbeat ${w.heartbeatAt}`);
  printLine(
    `  busy ${w.busy}/${w.concurrency ?? 0} (${Math.round(w.utilization * 100)}%), processed ${w.processed}, failed ${w.failed}`,
  );
  printLine(`  queues ${w.queues === null || w.queues === undefined ? "all" : w.queues.join(",")}`);
  if (w.jobs.length === 0) {
    printLine("  running no jobs");
    return;
  }
  printTable(
    ["JOB", "TASK", "QUEUE", "STARTED"],
    w.jobs.map((j) => [j.id, j.task, j.queue, j.held ? "held (not started)" : (j.startedAt ?? "")]),
  );
}
