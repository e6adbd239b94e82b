/**
 * `overseer schedules list|enable|disable|run`. With `--config`, the file's schedules are
 * registered first (as `start` does), so the commands work before any scheduler has run; a bad
 * config stops the command before anything is written.
 */
import type { Command } from "commander";
import { validateName } from "../../core/job-options.js";
import type { ScheduleRecord } from "../../core/types.js";
import type { Overseer } from "../../sdk/overseer.js";
import {
  action,
  type GlobalOptions,
  globals,
  loadConfig,
  printJson,
  printLine,
  printTable,
  withOverseer,
} from "../context.js";

/** Loads the config (if any) before the database is opened, then syncs it once it is. */
async function withSchedules<T>(g: GlobalOptions, fn: (overseer: Overseer) => Promise<T>): Promise<T> {
  const config = g.config === undefined ? null : await loadConfig(g.config);
  return withOverseer(g, async (o) => {
    if (config) await o.syncSchedules(config.schedules);
    return fn(o);
  });
}

function status(s: ScheduleRecord): string {
  return s.removed ? "removed" : s.enabled ? "enabled" : "disabled";
}

export function registerSchedules(program: Command): void {
  const schedules = program.command("schedules").description("list, enable, disable and run recurring tasks");
  schedules
    .command("list")
    .description("schedules with their last tick and next run")
    .action(
      action(async (_flags, command: Command) => {
        const g = globals(command);
        const list = await withSchedules(g, (o) => o.listSchedules());
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine("no schedules; define them in a config file and pass --config FILE");
        printTable(
          ["NAME", "STATUS", "CRON", "TIMEZONE", "TASK", "CATCH-UP", "LAST TICK", "NEXT RUN"],
          list.map((s) => [
            s.name,
            status(s),
            s.cron,
            s.timezone,
            s.task,
            String(s.catchUp),
            s.lastTickAt ?? "-",
            s.nextRunAt ?? "-",
          ]),
        );
      }),
    );
  for (const verb of ["enable", "disable"] as const) {
    schedules
      .command(verb)
      .description(
        verb === "enable"
          ? "fire a schedule again, from its next tick (ticks missed while disabled are skipped)"
          : "stop a schedule firing; the flag is kept across restarts",
      )
      .argument("<name>")
      .action(
        action(async (name: string, _flags, command: Command) => {
          const g = globals(command);
          validateName(name, "schedule");
          const s = await withSchedules(g, (o) =>
            verb === "enable" ? o.enableSchedule(name) : o.disableSchedule(name),
          );
          if (g.json) printJson(s);
          else printLine(`schedule ${s.name} ${status(s)}${s.nextRunAt ? `; next run ${s.nextRunAt}` : ""}`);
        }),
      );
  }
  schedules
    .command("run")
    .description("enqueue one job for a schedule now, outside its ticks")
    .argument("<name>")
    .action(
      action(async (name: string, _flags, command: Command) => {
        const g = globals(command);
        validateName(name, "schedule");
        const job = await withSchedules(g, (o) => o.runSchedule(name));
        if (g.json) printJson(job);
        else printLine(`enqueued ${job.id} (${job.task}) for schedule ${name}`);
      }),
    );
}
