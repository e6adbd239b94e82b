/** `overseer events [--follow] [--ndjson]`: the event log, and a live tail of it. */
import type { Command } from "commander";
import type { OverseerEvent } from "../../core/types.js";
import { action, globals, openOverseer, parseIntOption, printJson, printLine } from "../context.js";

interface EventFlags {
  since?: string;
  job?: string;
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
    .option("--limit <n>", "how many recent events to show first", "50")
    .option("--follow", "keep printing new events until interrupted")
    .option("--ndjson", "one JSON event per line")
    .action(
      action(async (flags: EventFlags, command: Command) => {
        const g = globals(command);
        const limit = parseIntOption(flags.limit, "--limit", 1, 100_000);
        const overseer = await openOverseer(g);
        const print = (e: OverseerEvent) => {
          if (flags.ndjson) printLine(JSON.stringify(e));
          else
            printLine(
              `#${e.seq}  ${e.at}  ${e.kind.padEnd(20)}  ${e.jobId ?? e.workerId ?? ""}  ${JSON.stringify(e.data)}`,
            );
        };
        try {
          let after =
            flags.since !== undefined
              ? parseIntOption(flags.since, "--since", 0, Number.MAX_SAFE_INTEGER)
              : Math.max(0, (await overseer.store.lastEventSeq()) - limit);
          const first = await overseer.readEvents({ afterSeq: after, jobId: flags.job, limit });
          if (g.json && !flags.follow && !flags.ndjson) return printJson(first);
          for (const e of first) print(e);
          after = first.at(-1)?.seq ?? after;
          if (!flags.follow) return;
          await follow(overseer, after, flags.job, print);
        } finally {
          await overseer.close();
        }
      }),
    );
}

/** Tails the log until SIGINT/SIGTERM: woken by store changes, with a slow poll as a safety net. */
async function follow(
  overseer: Awaited<ReturnType<typeof openOverseer>>,
  after: number,
  jobId: string | undefined,
  print: (e: OverseerEvent) => void,
): Promise<void> {
  let stopped = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const unsubscribe = overseer.store.onChange(() => wake?.());
  try {
    while (!stopped) {
      const events = await overseer.readEvents({ afterSeq: after, jobId, limit: 1_000 });
      for (const e of events) print(e);
      after = events.at(-1)?.seq ?? after;
      if (events.length === 1_000) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 500);
      });
      wake = null;
    }
  } finally {
    unsubscribe();
  }
}
