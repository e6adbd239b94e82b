// One place wires the service: Overseer on the database, the callback requests next to its
// tables, the tasks, the HTTP routes, and (when asked) a worker and the scheduler. app.mjs turns
// environment variables into these options; the tests call it with their own database, clock
// and telephony, so what they prove is what the app runs.
import { createOverseer } from "overseer";
import { CallbackRequests } from "./requests.mjs";
import { callbackRoutes } from "./routes.mjs";
import { answerKey, newSecret } from "./secrets.mjs";
import { callbackTasks, NOT_ANSWERED, schedulesOf } from "./tasks.mjs";

/** Where the answer URLs point when no `publicUrl` is given and the routes do not listen. */
const DEFAULT_PUBLIC_URL = "http://127.0.0.1:7080";

const quiet = () => {
  // the default: the service says nothing unless given a logger
};
/** @type {import("overseer").Logger} */
const silent = { debug: quiet, info: quiet, warn: quiet, error: quiet };

/**
 * @typedef {{
 *   database: string,
 *   config: import("./config.mjs").CallbackConfig,
 *   telephony: import("./telephony.mjs").Telephony,
 *   clock?: () => number,
 *   publicUrl?: string,
 *   trustProxy?: import("./routes.mjs").RouteDeps["trustProxy"],
 *   logger?: import("overseer").Logger,
 * }} ServiceOptions `database`: a SQLite file or a postgres:// URL; `clock`: Overseer's (tests
 *   move time with it); `publicUrl`: where the telephony provider reaches the answer route (the
 *   address the routes listen on, unless told); `trustProxy`: the proxies whose X-Forwarded-For
 *   names the client (the loopback unless told)
 */

/** @param {ServiceOptions} options */
export async function createCallbackService({
  database,
  config,
  telephony,
  clock,
  publicUrl,
  trustProxy,
  logger = silent,
}) {
  const overseer = await createOverseer({ database, logger, ...(clock ? { clock } : {}) });
  /** @type {CallbackRequests | null} */
  let opened = null;
  /** @type {string} */
  let secret;
  try {
    opened = await CallbackRequests.open(database, overseer, logger);
    secret = await opened.secret(newSecret());
  } catch (err) {
    await opened?.close();
    await overseer.close();
    throw err;
  }
  const requests = opened;
  const now = () => overseer.now();
  let base = publicUrl?.replace(/\/+$/, "") ?? null;
  /** @type {(id: string, ring: string) => string} */
  const answerUrl = (id, ring) =>
    `${base ?? DEFAULT_PUBLIC_URL}/callbacks/${id}/answered?ring=${ring}&key=${answerKey(secret, id, ring)}`;
  overseer.register(...callbackTasks({ config, telephony, requests, secret, answerUrl, now }));
  const app = callbackRoutes({
    overseer,
    requests,
    config,
    secret,
    now,
    localNow: clock ?? Date.now,
    logger,
    ...(trustProxy === undefined ? {} : { trustProxy }),
  });
  let closed = false;

  return {
    overseer,
    requests,
    config,
    /** The Fastify instance: `inject()` for in-process requests. */
    app,

    /**
     * Serves the routes on 127.0.0.1 (port 0 picks a free one); resolves with the base URL.
     * @param {{ port?: number, host?: string }} [options]
     */
    async listen({ port = 7080, host = "127.0.0.1" } = {}) {
      const address = await app.listen({ port, host });
      base ??= address;
      return address;
    },

    /**
     * Starts a worker for the example's tasks (all queues unless told), with the calls queue's
     * circuit breaker: when too many calls fail (the provider's voice side is down), it opens and
     * each new call goes to `sms-fallback` instead (SMS-only mode) until, after the cool-down, one
     * call gets through. A round nobody took (NOT_ANSWERED) is not counted at all: businesses
     * that do not pick up say nothing about the provider, and must not turn calls off for all.
     * @param {import("overseer").WorkerOptions} [options]
     */
    async startWorker(options = {}) {
      const { failureRate, minCalls, window, cooldown } = config.smsOnlyMode;
      const worker = overseer.worker({
        breakers: {
          calls: {
            failureRate,
            minAttempts: minCalls,
            window,
            cooldown,
            divertTo: "sms-fallback",
            ignoreErrors: [NOT_ANSWERED],
          },
        },
        ...options,
      });
      await worker.start();
      return worker;
    },

    /**
     * Starts the scheduler of the nightly clean-up and the weekday report.
     * @param {{ maxSleepMs?: number }} [options]
     */
    async startScheduler(options = {}) {
      const scheduler = overseer.scheduler({ ...options, schedules: schedulesOf(config) });
      await scheduler.start();
      return scheduler;
    },

    /** Stops taking requests, lets the running jobs finish (the worker's shutdown timeout), and closes. */
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await overseer.close();
      await requests.close();
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof createCallbackService>>} CallbackService */
