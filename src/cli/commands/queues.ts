/** `overseer queues list|pause|resume` and `overseer workers`. */
import type { Command } from "commander";
import { action, globals, printJson, printLine, printTable, withOverseer } from "../context.js";

export function registerQueues(program: Command): void {
  const queues = program.command("queues").description("list, pause and resume queues");
  queues
    .command("list")
    .description("queues with job counts by state")
    .action(
      action(async (_flags, command: Command) => {
        const g = globals(command);
        const list = await withOverseer(g, (o) => o.listQueues());
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine("no queues yet");
        printTable(
          ["QUEUE", "PAUSED", "SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED", "DEAD", "CANCELLED"],
          list.map((q) => [
            q.name,
            q.paused ? "yes" : "no",
            ...(["scheduled", "queued", "running", "succeeded", "dead", "cancelled"] as const).map((s) =>
              String(q.counts[s]),
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
          const q = await withOverseer(g, (o) => (verb === "pause" ? o.pauseQueue(name) : o.resumeQueue(name)));
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
        const list = await withOverseer(g, (o) => o.listWorkers());
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine("no workers have registered");
        printTable(
          ["ID", "NAME", "STATUS", "CONCURRENCY", "HEARTBEAT", "TASKS"],
          list.map((w) => [w.id, w.name, w.status, String(w.concurrency), w.heartbeatAt, w.tasks.join(",")]),
        );
      }),
    );
}
