/**
 * `overseer start` and `overseer worker`: flags into `startNode`'s options (see sdk/node.ts), and
 * what only a terminal needs around it: the banner, the status line, the demo producer and the
 * signals. On SIGTERM/SIGINT the node shuts down gracefully: it stops claiming, lets running
 * jobs finish up to the deadline, aborts and hands back the rest. A second signal exits at once;
 * nothing is lost, leases simply expire. An `overseer worker` whose worker an operator stopped
 * exits the same way, with status 0.
 */
import { parseDuration } from "../../core/duration.js";
import { OverseerError } from "../../core/errors.js";
import type { TaskDefinition } from "../../core/task.js";
import { demoTasks, startDemoProducer } from "../../demo/demo-tasks.js";
import { COMMAND_TASK } from "../../sdk/command-task.js";
import { startNode } from "../../sdk/node.js";
import { isPostgresUrl, printableDatabase } from "../../store/database-url.js";
import {
  databaseOf,
  type GlobalOptions,
  loadConfig,
  makeLogger,
  overseerOptions,
  parseIntOption,
  parseList,
} from "../context.js";
import { loadTasksDir } from "../load-tasks.js";
import { type HttpFlags, httpBanner, parseHttpFlags } from "../serve-http.js";
import { showSummary, startSummary } from "../summary.js";

export interface NodeFlags extends HttpFlags {
  tasks?: string;
  demo?: boolean;
  concurrency?: string;
  prefetch?: string;
  queues?: string;
  lease?: string;
  shutdownTimeout?: string;
  eventsNdjson?: string;
  summary?: boolean;
  retention?: boolean;
  scheduler?: boolean;
  /** Supervise runs: on by default for start (`--no-runs`), off for worker (`--runs`). */
  runs?: boolean;
}

export async function runNode(mode: "start" | "worker", flags: NodeFlags, global: GlobalOptions): Promise<void> {
  const logger = makeLogger(global.logLevel, mode === "start" ? "warn" : "info", global.logFormat);
  // Before the database is opened: a bad config writes nothing.
  const config = global.config === undefined ? null : await loadConfig(global.config);
  // The channels' secrets come from the environment: a missing one stops the node here, naming
  // the file, before anything is opened or served.
  if (config !== null && global.config !== undefined && config.alerts.channels.length > 0) {
    const { resolveAlertChannels } = await import("../../config/channel-secrets.js");
    resolveAlertChannels(config.alerts.channels, process.env, global.config);
  }
  const superviseRuns = flags.runs ?? mode === "start";
  const tasks: TaskDefinition[] = [];
  if (flags.tasks !== undefined) tasks.push(...(await loadTasksDir(flags.tasks)));
  if (flags.demo) tasks.push(...demoTasks);
  // A node may run only runs, or only the built-in command task: a config with run profiles or
  // a `commands` section is work enough.
  const hasProfiles = config !== null && Object.keys(config.runs.profiles).length > 0;
  const hasCommands = config !== null && config.commands !== null;
  if (tasks.length === 0 && !(superviseRuns && hasProfiles) && !hasCommands) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      mode === "start"
        ? "no tasks to run: pass --tasks DIR (a folder of task modules) or --demo, or a --config with run profiles or commands"
        : "no tasks to run: pass --tasks DIR (a folder of task modules), or --runs with a --config with run profiles, or a --config with commands",
    );
  }
  const concurrency =
    flags.concurrency === undefined ? 10 : parseIntOption(flags.concurrency, "--concurrency", 1, 10_000);
  const prefetch = parsePrefetch(flags.prefetch);
  const leaseMs = flags.lease === undefined ? undefined : parseDuration(flags.lease, "--lease");
  const shutdownTimeoutMs =
    flags.shutdownTimeout === undefined ? 10_000 : parseDuration(flags.shutdownTimeout, "--shutdown-timeout");
  const http = mode === "start" ? parseHttpFlags(flags) : null;
  const envToken = process.env.OVERSEER_ADMIN_TOKEN;
  const fromEnv = envToken !== undefined && envToken !== "";

  const node = await startNode({
    ...overseerOptions(global, logger, config ?? undefined),
    tasks,
    http: http === null ? false : { ...http, ...(fromEnv ? { adminToken: envToken } : {}) },
    worker: {
      concurrency,
      prefetch,
      queues: parseList(flags.queues) ?? null,
      leaseMs,
      shutdownTimeoutMs,
      breakers: config?.breakers ?? {},
    },
    // A config without schedules still says which schedules exist: none.
    schedules: config?.schedules,
    scheduler: flags.scheduler !== false,
    superviseRuns,
    // Approve / Deny / Acknowledge pressed in Telegram: one poller per bot, in the node that serves (start).
    telegramDecisions: mode === "start",
    retention: mode === "start" && flags.retention !== false,
    rollups: mode === "start",
    eventsNdjson: flags.eventsNdjson,
  });
  const { overseer, worker, scheduler, supervisor } = node;
  // One write, so whoever reads the URL line has the token line with it.
  if (node.url !== null) {
    process.stdout.write(httpBanner(node.url, { first: node.firstAdminToken, fromEnv }, tokensCommand(global)));
  }
  const reportError = (what: string) => (err: unknown) => logger.error({ err }, `${what} failed`);
  const stopDemo = flags.demo ? startDemoProducer(overseer, reportError("demo producer")) : null;
  const summary =
    mode === "start" && showSummary(flags.summary, process.stdout.isTTY)
      ? startSummary(overseer, process.stdout, reportError("summary"))
      : null;

  // Listen for signals before saying we are ready: whoever reads that line may signal at once.
  const stopRequested = new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(
          "overseer: second signal, exiting now; running jobs will be retried after their leases expire\n",
        );
        process.exit(130);
      }
      summary?.stop(); // so that the line below is not written over the status line
      process.stdout.write(`overseer: ${signal} received, draining (up to ${shutdownTimeoutMs} ms)...\n`);
      resolve();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  const parts = [`database ${printableDatabase(databaseOf(global))}`];
  if (worker) {
    // The built-in command task is the one worth naming: the others run on every worker.
    const names = [...tasks.map((t) => t.name), ...(config?.commands ? [COMMAND_TASK] : [])];
    parts.push(`tasks ${names.join(", ")}`, `concurrency ${concurrency}`, `worker ${worker.id}`);
  }
  if (scheduler) parts.push(`schedules ${(config?.schedules ?? []).map((s) => s.name).join(", ")}`);
  if (supervisor) parts.push(`runs (${Object.keys(config?.runs.profiles ?? {}).length} profiles)`);
  process.stdout.write(`overseer ${mode}: ${parts.join(", ")}. Ctrl-C to stop.\n`);
  // A worker stopped by an operator (`overseer workers stop`, the API, the dashboard) ends an
  // `overseer worker` process that runs nothing else, with status 0; elsewhere the rest goes on.
  const commanded =
    mode === "worker" && worker !== null && supervisor === null && scheduler === null
      ? worker.commandedStop.then(() => {
          process.stdout.write("overseer: the worker was stopped by an operator\n");
        })
      : new Promise<void>(() => undefined);
  await Promise.race([stopRequested, commanded]);
  stopDemo?.();
  await node.stop();
  process.stdout.write(`overseer: stopped cleanly (${JSON.stringify(worker?.stats ?? {})})\n`);
}

/** The command that makes an admin token on this node's database, as the banner suggests it. */
export function tokensCommand(global: GlobalOptions): string {
  const create = "tokens create --scope admin --name me";
  // OVERSEER_DATABASE, if that is where the database came from, reaches it again by itself.
  if (global.database === undefined) return `overseer ${create}`;
  // A URL is not repeated: its password would be printed (the user has it at hand).
  if (isPostgresUrl(global.database)) return `overseer --database <the same URL> ${create}`;
  return `overseer --database ${shellQuote(global.database)} ${create}`;
}

function shellQuote(word: string): string {
  return /^[\w./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** `--prefetch`: "auto" (the default) or how many jobs to hold. */
function parsePrefetch(value: string | undefined): number | "auto" {
  if (value === undefined || value === "auto") return "auto";
  if (/^\d+$/.test(value) && Number(value) <= 100_000) return Number(value);
  throw new OverseerError(
    "INVALID_ARGUMENT",
    `--prefetch must be "auto" or a whole number from 0 to 100000; got "${value}"`,
    {
      field: "--prefetch",
    },
  );
}
