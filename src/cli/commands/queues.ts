/** `overseer queues list|pause|resume|reset-breaker`, `overseer workers` and `overseer concurrency`. */
import type { Command } from "commander";
import type { QueueBreaker } from "../../core/breaker.js";
import { withBackend } from "../backend.js";
import { action, globals, parseIntOption, printJson, printLine, printTable } from "../context.js";

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

  program
    .command("workers")
    .description("registered workers and their heartbeats")
    .action(
      action(async (_flags, command: Command) => {
        const g = globals(command);
        const list = await withBackend(g, (b) => b.listWorkers());
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine("no workers have registered");
        printTable(
          ["ID", "NAME", "STATUS", "CONCURRENCY", "HEARTBEAT", "TASKS"],
          list.map((w) => [w.id, w.name, w.status, String(w.concurrency), w.heartbeatAt, (w.tasks ?? []).join(",")]),
        );
      }),
    );

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
