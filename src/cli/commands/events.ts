/**
 * `overseer events [--job ID | --run ID] [--follow] [--ndjson]`: the event log (or one job's or
 * one agent run's part of it), and a live tail of it, from the database or, with `--url`, from a
 * server (its SSE stream, resumed after a dropped connection).
 */
import type { Command } from "commander";
import type { OverseerEvent } from "../../client/index.js";
import { OverseerError } from "../../core/errors.js";
import { type EventSubject, openBackend } from "../backend.js";
import { action, globals, parseIntOption, printJson, printLine } from "../context.js";

interface EventFlags {
  since?: string;
  job?: string;
  run?: string;
  limit: string;
  follow?: boolean;
  ndjson?: boolean;
}

export function registerEvents(program: Command): void {
  program
    .command("events")
    .description("print the event log (the most recent --limit events, or those after --since); --follow keeps tailing")
    .option("--since <seq>", "events after this sequence number")
    .option("--job <id>", "only this job's events")
    .option("--run <id>", "only this agent run's events")
    .option("--limit <n>", "how many recent events to show first", "50")
    .option("--follow", "keep printing new events until interrupted")
    .option("--ndjson", "one JSON event per line")
    .action(
      action(async (flags: EventFlags, command: Command) => {
        const g = globals(command);
        if (flags.job !== undefined && flags.run !== undefined) {
          // The server streams one job's or one run's events, not their intersection.
          throw new OverseerError("INVALID_ARGUMENT", "--job and --run cannot be combined; give one of them", {
            field: "run",
          });
        }
        const subject: EventSubject =
          flags.job !== undefined ? { jobId: flags.job } : flags.run !== undefined ? { runId: flags.run } : {};
        const limit = parseIntOption(flags.limit, "--limit", 1, 100_000);
        const since =
          flags.since === undefined ? undefined : parseIntOption(flags.since, "--since", 0, Number.MAX_SAFE_INTEGER);
        const backend = await openBackend(g);
        const print = (e: OverseerEvent) => {
          if (flags.ndjson) printLine(JSON.stringify(e));
          else
            printLine(
              `#${e.seq}  ${e.at}  ${e.kind.padEnd(20)}  ${e.jobId ?? e.runId ?? e.workerId ?? ""}  ${JSON.stringify(e.data)}`,
            );
        };
        try {
          let after = since ?? Math.max(0, (await backend.lastEventSeq()) - limit);
          const first = await backend.readEvents({ ...subject, afterSeq: after, limit });
          if (g.json && !flags.follow && !flags.ndjson) return printJson(first);
          for (const e of first) print(e);
          after = first.at(-1)?.seq ?? after;
          if (!flags.follow) return;
          // Until SIGINT/SIGTERM.
          const stop = new AbortController();
          const abort = () => stop.abort();
          process.once("SIGINT", abort);
          process.once("SIGTERM", abort);
          await backend.follow(after, subject, print, stop.signal);
        } finally {
          await backend.close();
        }
      }),
    );
}
