// pg-boss adapter (PostgreSQL).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import PgBoss from "pg-boss";
import { config } from "../lib.mjs";
import { dropSchema } from "./pg-util.mjs";

const SCHEMA = "bench_pgboss";
const QUEUE = "bench";
const BATCH_SIZE = Number(process.env.BENCH_PGBOSS_BATCH || 250);
const LOOPS = Number(process.env.BENCH_PGBOSS_LOOPS || 2);
const POLLING_INTERVAL_SECONDS = 0.5; // pg-boss 10 minimum

function options(extra) {
  return {
    connectionString: config.pgUrl,
    schema: SCHEMA,
    supervise: false, // no maintenance/archiving during the measurement
    schedule: false, // no cron
    ...extra,
  };
}

/** Runs fn over items with at most `limit` calls in flight. */
async function runLimited(items, limit, fn) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function version() {
  const require = createRequire(import.meta.url);
  return JSON.parse(readFileSync(require.resolve("pg-boss/package.json"), "utf8")).version;
}

export default {
  label: "pg-boss",
  storage: "PostgreSQL",
  version,
  settings: [
    `${LOOPS} \`work()\` polling loops, each \`batchSize: ${BATCH_SIZE}\`, \`pollingIntervalSeconds: ${POLLING_INTERVAL_SECONDS}\` (the minimum); each loop runs its batch with at most C / ${LOOPS} handlers in flight, so C in all (pg-boss 10 has no concurrency option; few loops with big batches beat C loops with small ones here: ~2x at C = 10)`,
    "a loop whose batch came back full calls the public `notifyWorker(id)` so it fetches again at once instead of sleeping out the polling interval (without it a loop takes one batch per 0.5 s)",
    "pool `max` = 10 (default); `supervise: false`, `schedule: false` (no maintenance/cron during runs); queue created with `createQueue` (policy standard)",
    "one-at-a-time enqueue `send`, bulk `insert(array)`; completed = rows in state `completed` (pg-boss keeps them)",
    "no LISTEN/NOTIFY in pg-boss: a producer in another process is only seen at the next poll, which dominates its latency",
  ],

  async setup() {
    await dropSchema(SCHEMA);
    const boss = new PgBoss(options({ migrate: true }));
    boss.on("error", (err) => console.error(`[pg-boss] ${err.message}`));
    await boss.start();
    await boss.createQueue(QUEUE);
    return { boss };
  },

  workerArgs() {
    return {};
  },

  async enqueueOne(ctx, payload) {
    await ctx.boss.send(QUEUE, payload);
  },

  async enqueueBulk(ctx, payloads) {
    await ctx.boss.insert(payloads.map((data) => ({ name: QUEUE, data })));
  },

  async teardown(ctx) {
    await ctx?.boss?.stop({ graceful: false, wait: true });
    await dropSchema(SCHEMA);
  },

  async startWorker({ concurrency, handler }) {
    const boss = new PgBoss(options({ migrate: false }));
    boss.on("error", (err) => console.error(`[pg-boss worker] ${err.message}`));
    await boss.start();
    const workOptions = { batchSize: BATCH_SIZE, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS };
    const perLoop = Math.max(1, Math.floor(concurrency / LOOPS));
    for (let i = 0; i < LOOPS; i++) {
      let id = null;
      id = await boss.work(QUEUE, workOptions, async (jobs) => {
        await runLimited(jobs, perLoop, (job) => handler(job.data));
        if (jobs.length === BATCH_SIZE && id) boss.notifyWorker(id);
      });
    }
    const db = boss.getDb();
    return {
      async isDrained(n) {
        const { rows } = await db.executeSql(
          `SELECT count(*)::int AS c FROM ${SCHEMA}.job WHERE name = $1 AND state = 'completed'`,
          [QUEUE],
        );
        return rows[0].c >= n;
      },
      async stop() {
        await boss.stop({ graceful: true, wait: true, timeout: 5000 });
      },
    };
  },
};
