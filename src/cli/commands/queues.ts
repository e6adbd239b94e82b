/** `overseer queues list|pause|resume` and `overseer workers`. */
import type { Command } from "commander";
import { withBackend } from "../backend.js";
import { action, globals, printJson, printLine, printTable } from "../context.js";

export function registerQueues(program: Command): void {
  const queues = program.command("queues").description("list, pause and resume queues");
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
          ["QUEUE", "PAUSED", "SCHEDULED", "QUEUED", "RUNNING", "AWAITING APPROVAL", "SUCCEEDED", "DEAD", "CANCELLED"],
          list.map((q) => [
            q.name,
            q.paused ? "yes" : "no",
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
}
