/** `overseer migrate` and `overseer prune`. */
import type { Command } from "commander";
import { parseDuration } from "../../core/duration.js";
import { DEFAULT_RETENTION } from "../../engine/retention.js";
import { printableDatabase } from "../../store/database-url.js";
import type { RetentionPolicy, RetentionRule } from "../../store/store.js";
import { action, databaseOf, globals, parseIntOption, printJson, printLine, withOverseer } from "../context.js";

interface PruneFlags {
  archive?: string;
  dryRun?: boolean;
  succeeded?: string;
  dead?: string;
  cancelled?: string;
  events?: string;
  runs?: string;
  alerts?: string;
  lessons?: string;
  maxSucceeded?: string;
  maxDead?: string;
  maxCancelled?: string;
  maxEvents?: string;
  maxRuns?: string;
  maxAlerts?: string;
  maxLessons?: string;
}

export function registerMaintenance(program: Command): void {
  program
    .command("migrate")
    .description("create or upgrade the database schema (other commands do this too)")
    .action(
      action(async (_flags, command: Command) => {
        const g = globals(command);
        // Opening migrates; a second call reports that nothing was left to do.
        const { applied } = await withOverseer(g, (o) => o.migrate());
        if (g.json) printJson({ database: printableDatabase(databaseOf(g)), applied });
        else printLine(`database ${printableDatabase(databaseOf(g))} is up to date`);
      }),
    );

  program
    .command("prune")
    .description(
      "delete old finished jobs, finished runs, closed alerts, lessons and events, optionally archiving them to NDJSON first",
    )
    .option("--archive <file>", "append what is deleted to this NDJSON file first")
    .option("--dry-run", "only count what would be deleted")
    .option("--succeeded <age>", "keep succeeded jobs this long", "7d")
    .option("--dead <age>", "keep dead jobs this long", "30d")
    .option("--cancelled <age>", "keep cancelled jobs this long", "7d")
    .option("--events <age>", "keep events this long", "30d")
    .option("--runs <age>", "keep finished runs (with their turns and output) this long", "30d")
    .option("--alerts <age>", "keep closed alerts (with their notifications) this long", "90d")
    .option("--lessons <age>", "keep lessons this long (they outlive their jobs)", "365d")
    .option("--max-succeeded <n>", "keep at most this many succeeded jobs")
    .option("--max-dead <n>", "keep at most this many dead jobs")
    .option("--max-cancelled <n>", "keep at most this many cancelled jobs")
    .option("--max-events <n>", "keep at most this many events")
    .option("--max-runs <n>", "keep at most this many finished runs")
    .option("--max-alerts <n>", "keep at most this many closed alerts")
    .option("--max-lessons <n>", "keep at most this many lessons")
    .action(
      action(async (flags: PruneFlags, command: Command) => {
        const rule = (age: string | undefined, max: string | undefined, name: string, fallback?: RetentionRule) => {
          const r: RetentionRule = {
            maxAgeMs: age === undefined ? fallback?.maxAgeMs : parseDuration(age, `--${name}`),
          };
          if (max !== undefined) r.maxCount = parseIntOption(max, `--max-${name}`, 0, Number.MAX_SAFE_INTEGER);
          return r;
        };
        const policy: RetentionPolicy = {
          jobs: {
            succeeded: rule(flags.succeeded, flags.maxSucceeded, "succeeded", DEFAULT_RETENTION.jobs.succeeded),
            dead: rule(flags.dead, flags.maxDead, "dead", DEFAULT_RETENTION.jobs.dead),
            cancelled: rule(flags.cancelled, flags.maxCancelled, "cancelled", DEFAULT_RETENTION.jobs.cancelled),
          },
          events: rule(flags.events, flags.maxEvents, "events", DEFAULT_RETENTION.events),
          runs: rule(flags.runs, flags.maxRuns, "runs", DEFAULT_RETENTION.runs),
          alerts: rule(flags.alerts, flags.maxAlerts, "alerts", DEFAULT_RETENTION.alerts),
          lessons: rule(flags.lessons, flags.maxLessons, "lessons", DEFAULT_RETENTION.lessons),
        };
        const g = globals(command);
        const result = await withOverseer(g, (o) =>
          o.prune(policy, { archivePath: flags.archive, dryRun: flags.dryRun }),
        );
        if (g.json) return printJson({ dryRun: flags.dryRun ?? false, ...result });
        const verb = flags.dryRun ? "would delete" : "deleted";
        printLine(
          `${verb} ${result.jobs.succeeded} succeeded, ${result.jobs.dead} dead, ${result.jobs.cancelled} cancelled job(s), ` +
            `${result.runs} finished run(s), ${result.alerts} closed alert(s), ${result.lessons} lesson(s) and ${result.events} event(s)` +
            `${flags.archive && !flags.dryRun ? `; archived to ${flags.archive}` : ""}`,
        );
      }),
    );
}
