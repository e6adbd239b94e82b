// graphile-worker adapter (PostgreSQL).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import { config } from "../lib.mjs";
import { dropSchema, openClient } from "./pg-util.mjs";

const SCHEMA = "bench_graphile";
const COMPLETE_BATCH_DELAY = Number(process.env.BENCH_GRAPHILE_BATCH_DELAY || 10);
const LOCAL_QUEUE_SIZE = Number(process.env.BENCH_GRAPHILE_LOCAL_QUEUE || 500);

const quietLogger = new Logger(() => (level, message) => {
  if (level === "error") console.error(`[graphile-worker] ${message}`);
});

function version() {
  const require = createRequire(import.meta.url);
  return JSON.parse(readFileSync(require.resolve("graphile-worker/package.json"), "utf8")).version;
}

export default {
  label: "graphile-worker",
  storage: "PostgreSQL",
  version,
  settings: [
    "`run()` with `concurrency` = scenario concurrency, `taskList` (no task directory), `maxPoolSize` = max(10, C + 2) as its docs advise",
    `\`preset.worker.localQueue: { size: ${LOCAL_QUEUE_SIZE} }\` (batched fetching; 500 beat 20 and 100 here), \`completeJobBatchDelay: ${COMPLETE_BATCH_DELAY}\`, \`failJobBatchDelay: ${COMPLETE_BATCH_DELAY}\` (batched completion)`,
    "LISTEN/NOTIFY for new jobs (default), `pollInterval` default; one-at-a-time enqueue `WorkerUtils.addJob`, bulk `WorkerUtils.addJobs(array)`",
    "completed = job row deleted (graphile-worker deletes completed jobs)",
  ],

  async setup() {
    await dropSchema(SCHEMA);
    const utils = await makeWorkerUtils({
      connectionString: config.pgUrl,
      schema: SCHEMA,
      logger: quietLogger,
    });
    await utils.migrate();
    return { utils };
  },

  workerArgs() {
    return {};
  },

  async enqueueOne(ctx, payload) {
    await ctx.utils.addJob("noop", payload);
  },

  async enqueueBulk(ctx, payloads) {
    await ctx.utils.addJobs(payloads.map((payload) => ({ identifier: "noop", payload })));
  },

  async teardown(ctx) {
    await ctx?.utils?.release();
    await dropSchema(SCHEMA);
  },

  async startWorker({ concurrency, handler }) {
    const client = await openClient();
    const runner = await run({
      connectionString: config.pgUrl,
      schema: SCHEMA,
      concurrency,
      maxPoolSize: Math.max(10, concurrency + 2),
      noHandleSignals: true,
      logger: quietLogger,
      taskList: { noop: async (payload) => handler(payload) },
      preset: {
        worker: {
          localQueue: { size: LOCAL_QUEUE_SIZE },
          completeJobBatchDelay: COMPLETE_BATCH_DELAY,
          failJobBatchDelay: COMPLETE_BATCH_DELAY,
        },
      },
    });
    return {
      async isDrained() {
        const { rows } = await client.query(`SELECT count(*)::int AS c FROM "${SCHEMA}"._private_jobs`);
        return rows[0].c === 0;
      },
      async stop() {
        await runner.stop();
        await client.end();
      },
    };
  },
};
