/**
 * `overseer start` and `overseer worker`: run a worker (and, for start, retention, the live
 * summary and optionally the demo) until SIGTERM/SIGINT, then shut down gracefully: stop
 * claiming, let running jobs finish up to the deadline, abort and hand back the rest.
 * A second signal exits at once; nothing is lost, leases simply expire.
 */
import { startTelegramDecisions } from "../../alerts/telegram-decisions.js";
import { parseDuration } from "../../core/duration.js";
import { OverseerError } from "../../core/errors.js";
import type { TaskDefinition } from "../../core/task.js";
import { demoTasks, startDemoProducer } from "../../demo/demo-tasks.js";
import { EventMirror } from "../../engine/event-mirror.js";
import { DEFAULT_RETENTION, pruneWithArchive } from "../../engine/retention.js";
import { SupervisedLoop } from "../../engine/supervised-loop.js";
import { isPostgresUrl, printableDatabase } from "../../store/database-url.js";
import {
  databaseOf,
  type GlobalOptions,
  loadConfig,
  makeLogger,
  openOverseer,
  parseIntOption,
  parseList,
} from "../context.js";
import { loadTasksDir } from "../load-tasks.js";
import { type HttpFlags, parseHttpFlags, type ServingHttp, serveHttp } from "../serve-http.js";
import { showSummary, startSummary } from "../summary.js";

export interface NodeOptions extends HttpFlags {
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

export async function runNode(mode: "start" | "worker", options: NodeOptions, global: GlobalOptions): Promise<void> {
  const logger = makeLogger(global.logLevel, mode === "start" ? "warn" : "info", global.logFormat);
  // Before the database is opened: a bad config writes nothing.
  const config = global.config === undefined ? null : await loadConfig(global.config);
  // The channels' secrets come from the environment: a missing one stops the node here, naming
  // the file, before anything is opened or served.
  if (config !== null && global.config !== undefined && config.alerts.channels.length > 0) {
    const { resolveAlertChannels } = await import("../../config/channel-secrets.js");
    resolveAlertChannels(config.alerts.channels, process.env, global.config);
  }
  const superviseRuns = options.runs ?? mode === "start";
  const tasks: TaskDefinition[] = [];
  if (options.tasks !== undefined) tasks.push(...(await loadTasksDir(options.tasks)));
  if (options.demo) tasks.push(...demoTasks);
  // A node may run only runs: a config with run profiles is work enough.
  const hasProfiles = config !== null && Object.keys(config.runs.profiles).length > 0;
  if (tasks.length === 0 && !(superviseRuns && hasProfiles)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      mode === "start"
        ? "no tasks to run: pass --tasks DIR (a folder of task modules) or --demo, or a --config with run profiles"
        : "no tasks to run: pass --tasks DIR (a folder of task modules), or --runs with a --config with run profiles",
    );
  }
  const concurrency =
    options.concurrency === undefined ? 10 : parseIntOption(options.concurrency, "--concurrency", 1, 10_000);
  const prefetch = options.prefetch === undefined ? 0 : parseIntOption(options.prefetch, "--prefetch", 0, 100_000);
  const leaseMs = options.lease === undefined ? undefined : parseDuration(options.lease, "--lease");
  const shutdownTimeoutMs =
    options.shutdownTimeout === undefined ? 10_000 : parseDuration(options.shutdownTimeout, "--shutdown-timeout");

  const http = mode === "start" ? parseHttpFlags(options) : null;

  const schedules = config?.schedules ?? [];

  const overseer = await openOverseer(global, logger, config ?? undefined);
  overseer.register(...tasks);
  // Before any work starts: a port in use stops the process with nothing begun.
  let server: ServingHttp | null = null;
  try {
    if (http) server = await serveHttp(overseer, http, logger, tokensCommand(global));
  } catch (err) {
    await overseer.close();
    throw err;
  }
  const worker =
    tasks.length === 0
      ? null
      : overseer.worker({
          concurrency,
          prefetch,
          queues: parseList(options.queues) ?? null,
          leaseMs,
          shutdownTimeoutMs,
        });
  const reportError = (what: string) => (err: unknown) => logger.error({ err }, `${what} failed`);

  // The API closes first, so no request arrives while the worker drains.
  const stops: Array<() => void | Promise<void>> = server ? [() => server.close()] : [];
  await worker?.start();
  // Stopped right after the API: turns are interrupted (SIGTERM, SIGKILL after their grace)
  // and the runs handed back, resumable by any node.
  const supervisor = superviseRuns ? overseer.runSupervisor() : null;
  if (supervisor) {
    supervisor.start();
    stops.push(() => supervisor.stop());
  }
  const scheduler = schedules.length > 0 && options.scheduler !== false ? overseer.scheduler({ schedules }) : null;
  if (scheduler) {
    await scheduler.start();
    stops.push(() => scheduler.stop());
  } else if (global.config !== undefined && options.scheduler !== false) {
    // A config without schedules still says which schedules exist: none. Mark the rest removed.
    await overseer.syncSchedules([]);
  }
  // A config says which heartbeat monitors exist (policies already resolved by name); the rest are removed.
  if (config !== null) await overseer.syncHeartbeats(config.alerts.heartbeats);
  // Approve / Deny / Acknowledge pressed in Telegram: one poller per bot, in the node that serves (start).
  const decisions = mode === "start" ? startTelegramDecisions(overseer, { logger }) : null;
  if (decisions) stops.push(() => decisions.stop());
  const mirror =
    options.eventsNdjson === undefined ? null : new EventMirror(overseer.store, options.eventsNdjson, logger);
  mirror?.start();
  if (mode === "start" && options.retention !== false) {
    const retention = new SupervisedLoop({
      name: "retention",
      logger,
      body: async () => {
        const result = await pruneWithArchive(overseer.store, DEFAULT_RETENTION);
        logger.info({ result }, "retention pass");
        return 3_600_000;
      },
    });
    retention.start();
    stops.push(() => retention.stop());
  }
  if (options.demo) stops.push(startDemoProducer(overseer, reportError("demo producer")));
  const summary =
    mode === "start" && showSummary(options.summary, process.stdout.isTTY)
      ? startSummary(overseer, process.stdout, reportError("summary"))
      : null;
  if (summary) stops.push(() => summary.stop());

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
  if (worker)
    parts.push(`tasks ${tasks.map((t) => t.name).join(", ")}`, `concurrency ${concurrency}`, `worker ${worker.id}`);
  if (scheduler) parts.push(`schedules ${schedules.map((s) => s.name).join(", ")}`);
  if (supervisor) parts.push(`runs (${Object.keys(config?.runs.profiles ?? {}).length} profiles)`);
  process.stdout.write(`overseer ${mode}: ${parts.join(", ")}. Ctrl-C to stop.\n`);
  await stopRequested;
  for (const stop of stops) await stop();
  await worker?.stop();
  // After the worker, so the file also holds the events of the shutdown itself.
  await mirror?.stop();
  await overseer.close();
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
