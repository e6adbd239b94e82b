/**
 * A whole node in one call, what `overseer start` runs, for any program: the HTTP API and
 * dashboard, a worker, the run supervisor, the scheduler, Telegram decisions, retention, job
 * rollups and the event mirror, on one Overseer. The API listens before any work starts, so a
 * port in use stops the node with nothing begun; `stop()` closes the API first, so that no
 * request arrives while the worker drains, and the Overseer last.
 *
 *   const node = await startNode({ database: "./app.db", tasks: [sendEmail], http: { port: 0 } });
 *   console.log(node.url); // the dashboard, and the API under /api/v1
 *   await node.stop();
 */
import { startTelegramDecisions } from "../alerts/telegram-decisions.js";
import { EventMirror } from "../engine/event-mirror.js";
import { DEFAULT_RETENTION, pruneWithArchive } from "../engine/retention.js";
import type { RunSupervisor } from "../engine/runs/run-supervisor.js";
import type { Scheduler } from "../engine/scheduler.js";
import { SupervisedLoop } from "../engine/supervised-loop.js";
import { watchdogPass } from "../engine/watchdogs.js";
import type { Worker, WorkerOptions } from "../engine/worker.js";
import type { HttpServerOptions } from "../http/server.js";
import { createOverseer, type Overseer, type OverseerOptions, type SchedulerSetup } from "./overseer.js";

/** How often retention prunes. */
const RETENTION_EVERY_MS = 3_600_000;
/** How often finished jobs are rolled up into per-minute rows (see store/rollups). */
const ROLLUPS_EVERY_MS = 60_000;
/** As often as a worker's maintenance pass runs them. */
const WATCHDOGS_EVERY_MS = 1_000;

/** The HTTP API and dashboard: the server's options (see docs/http-api.md), and the admin token to accept. */
export interface NodeHttpOptions extends Omit<HttpServerOptions, "overseer" | "logger"> {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 7070; 0 picks a free port (read it from `url`). */
  port?: number;
  /**
   * A secret to accept as the admin token `env-admin` (what `overseer start` takes from
   * OVERSEER_ADMIN_TOKEN): a different one replaces it, a revoked one stays refused.
   */
  adminToken?: string;
}

export interface NodeOptions extends OverseerOptions {
  /** Serve the HTTP API and dashboard (the default, on 127.0.0.1:7070), or not (`false`). */
  http?: NodeHttpOptions | false;
  /** The worker's settings; it runs when there are `tasks`. */
  worker?: WorkerOptions;
  /**
   * The schedules this node fires, as in a config file's `schedules` (or `loadConfig`'s): they
   * replace the stored ones, so an empty list marks every stored schedule removed. Omitted: the
   * stored schedules are left alone and none is fired here.
   */
  schedules?: SchedulerSetup["schedules"];
  /** Fire `schedules` here (the default), or leave them alone (`false`). */
  scheduler?: boolean;
  /** Supervise the runs of the store: default true. Their profiles come from `runs`. */
  superviseRuns?: boolean;
  /**
   * Poll each Telegram channel's bot for Approve / Deny / Acknowledge presses: default true.
   * Telegram allows one poller per bot, so run them in one node per bot token.
   */
  telegramDecisions?: boolean;
  /** Prune old jobs, runs, alerts and events hourly (`DEFAULT_RETENTION`): default true. */
  retention?: boolean;
  /**
   * Roll finished jobs up into the per-minute rows the metrics over time read, every minute:
   * default true. Any number of nodes may; each minute is counted once.
   */
  rollups?: boolean;
  /** Mirror the event log to this append-only NDJSON file (one node per file). */
  eventsNdjson?: string;
}

export interface RunningNode {
  readonly overseer: Overseer;
  /** Where the dashboard is, with the API under `/api/v1`: e.g. http://127.0.0.1:7070. Null without HTTP. */
  readonly url: string | null;
  /** The admin token made because the database had none: its secret is shown only here. */
  readonly firstAdminToken: { name: string; secret: string } | null;
  /** Null without tasks. */
  readonly worker: Worker | null;
  /** Null when this node fires no schedules. */
  readonly scheduler: Scheduler | null;
  /** Null when this node does not supervise runs. */
  readonly supervisor: RunSupervisor | null;
  /**
   * Stops gracefully: the API closes, runs are handed back, the worker claims nothing more and
   * lets its jobs finish up to its `shutdownTimeoutMs`, then the Overseer closes. Idempotent.
   */
  stop(): Promise<void>;
}

/** Opens Overseer and starts every part of a node that `options` asks for; see `NodeOptions`. */
export async function startNode(options: NodeOptions = {}): Promise<RunningNode> {
  const {
    http = {},
    worker: workerOptions = {},
    schedules,
    scheduler: firesSchedules = true,
    superviseRuns = true,
    telegramDecisions = true,
    retention = true,
    rollups = true,
    eventsNdjson,
    ...overseerOptions
  } = options;
  const overseer = await createOverseer(overseerOptions);
  const logger = overseer.logger;
  const served =
    http === false
      ? null
      : await serve(overseer, http).catch(async (err: unknown) => {
          await overseer.close();
          throw err;
        });
  // In the order they stop; the worker, the mirror and the Overseer come after them.
  const stops: Array<() => void | Promise<void>> = served ? [() => served.close()] : [];
  let worker: Worker | null = null;
  let mirror: EventMirror | null = null;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const s of stops) await s();
      await worker?.stop();
      // After the worker, so the file also holds the events of the shutdown itself.
      await mirror?.stop();
      await overseer.close();
    })();
    return stopping;
  };
  try {
    // A node with no tasks of its own still needs a worker when it has alerting to do: its
    // maintenance pass applies the rules (a run failed) and sends the notifications.
    // So does one whose config turns on the built-in command task.
    const alerting = overseer.alertSources() !== null || overseer.alertDelivery() !== null;
    const builtIn = alerting || overseer.settings.commands !== null;
    worker = overseer.taskNames.length === 0 && !builtIn ? null : overseer.worker(workerOptions);
    await worker?.start();
    // Stopped right after the API: turns are interrupted and the runs handed back, resumable by any node.
    const supervisor = superviseRuns ? overseer.runSupervisor() : null;
    if (supervisor) {
      supervisor.start();
      stops.push(() => supervisor.stop());
    }
    // Without a worker, whose maintenance pass runs them, the watchdogs run on their own: the
    // questions and approvals runs wait on must time out on a node that only supervises runs.
    if (supervisor && worker === null && overseer.runsConfigured) {
      const watchdogs = new SupervisedLoop({
        name: "watchdogs",
        logger,
        body: async () => {
          await watchdogPass(overseer.store, logger);
          return WATCHDOGS_EVERY_MS;
        },
      });
      watchdogs.start();
      stops.push(() => watchdogs.stop());
    }
    const scheduler = !firesSchedules || schedules === undefined ? null : await fire(overseer, schedules);
    if (scheduler) stops.push(() => scheduler.stop());
    // Which heartbeat monitors exist (policies already resolved by name); the rest are removed.
    if (overseerOptions.alerts !== undefined) await overseer.syncHeartbeats(overseerOptions.alerts.heartbeats);
    const decisions = telegramDecisions ? startTelegramDecisions(overseer, { logger }) : null;
    if (decisions) stops.push(() => decisions.stop());
    if (eventsNdjson !== undefined) {
      mirror = new EventMirror(overseer.store, eventsNdjson, logger);
      mirror.start();
    }
    if (rollups) {
      const rolling = new SupervisedLoop({
        name: "rollups",
        logger,
        body: async () => {
          const result = await overseer.rollUpJobs();
          if (result.jobs > 0 || result.deleted > 0) logger.debug({ result }, "rollup pass");
          return ROLLUPS_EVERY_MS;
        },
      });
      rolling.start();
      stops.push(() => rolling.stop());
    }
    if (retention) {
      const pruning = new SupervisedLoop({
        name: "retention",
        logger,
        body: async () => {
          const result = await pruneWithArchive(overseer.store, DEFAULT_RETENTION);
          logger.info({ result }, "retention pass");
          return RETENTION_EVERY_MS;
        },
      });
      pruning.start();
      stops.push(() => pruning.stop());
    }
    return {
      overseer,
      url: served?.url ?? null,
      firstAdminToken: served?.firstAdminToken ?? null,
      worker,
      scheduler,
      supervisor,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Accepts the given admin token, listens, then makes the first one on a database that never had
 * a token: in that order, so a start that cannot listen leaves no token nobody was shown. The
 * server module (Fastify) is loaded only here: importing the SDK does not load it.
 */
async function serve(
  overseer: Overseer,
  { adminToken, ...settings }: NodeHttpOptions,
): Promise<{ url: string; firstAdminToken: { name: string; secret: string } | null; close(): Promise<void> }> {
  const { createFirstAdminToken, seedAdminToken } = await import("../auth/tokens.js");
  const { startHttpServer } = await import("../http/server.js");
  if (adminToken !== undefined) await seedAdminToken(overseer.store, adminToken);
  const server = await startHttpServer({ ...settings, overseer, logger: overseer.logger });
  let created: Awaited<ReturnType<typeof createFirstAdminToken>>;
  try {
    created = await createFirstAdminToken(overseer.store);
  } catch (err) {
    await server.close();
    throw err;
  }
  const firstAdminToken = created ? { name: created.token.name, secret: created.secret } : null;
  return { url: server.url, firstAdminToken, close: () => server.close() };
}

/** A started scheduler for the schedules; with none, the stored ones are marked removed and null is returned. */
async function fire(overseer: Overseer, schedules: NonNullable<NodeOptions["schedules"]>): Promise<Scheduler | null> {
  const count = Array.isArray(schedules) ? schedules.length : Object.keys(schedules).length;
  if (count === 0) {
    await overseer.syncSchedules([]);
    return null;
  }
  const scheduler = overseer.scheduler({ schedules });
  await scheduler.start();
  return scheduler;
}
