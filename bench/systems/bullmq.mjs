// BullMQ adapter (Redis).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";
import { config } from "../lib.mjs";

const QUEUE = "bench";
const PREFIX = "overseer-bench";
const EVENTS_MAX_LEN = 100;

const connection = () => ({ ...config.redis, maxRetriesPerRequest: null });

/** Deletes every key under the bench prefix (never touches other keys). */
async function wipe() {
  const redis = new IORedis(connection());
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

function version() {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("bullmq/package.json");
  return JSON.parse(readFileSync(pkg, "utf8")).version;
}

export default {
  label: "BullMQ",
  storage: "Redis",
  version,
  settings: [
    "`Worker` with `concurrency` = scenario concurrency, `removeOnComplete: { count: 0 }` (completed jobs deleted at once; removeOnFail left default, nothing fails)",
    `events stream capped with \`streams.events.maxLen: ${EVENTS_MAX_LEN}\` (BullMQ cannot switch the stream off); no QueueEvents listener; metrics off (default)`,
    "stalled check and lock renewal at defaults; one-at-a-time enqueue `Queue.add`, bulk `Queue.addBulk`",
    "drain counted as completed when no job is left in wait/active/prioritized/delayed/paused (completed jobs are removed)",
  ],

  async setup() {
    await wipe();
    const queue = new Queue(QUEUE, {
      connection: connection(),
      prefix: PREFIX,
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    });
    await queue.waitUntilReady();
    return { queue };
  },

  workerArgs() {
    return {};
  },

  async enqueueOne(ctx, payload) {
    await ctx.queue.add("noop", payload);
  },

  async enqueueBulk(ctx, payloads) {
    await ctx.queue.addBulk(payloads.map((data) => ({ name: "noop", data })));
  },

  async teardown(ctx) {
    await ctx?.queue?.close();
    await wipe();
  },

  async startWorker({ concurrency, handler }) {
    const worker = new Worker(QUEUE, async (job) => handler(job.data), {
      connection: connection(),
      prefix: PREFIX,
      concurrency,
      removeOnComplete: { count: 0 },
    });
    worker.on("error", (err) => console.error(`[bullmq worker] ${err.message}`));
    const queue = new Queue(QUEUE, { connection: connection(), prefix: PREFIX });
    await Promise.all([worker.waitUntilReady(), queue.waitUntilReady()]);
    return {
      async isDrained() {
        const counts = await queue.getJobCounts(
          "wait",
          "active",
          "prioritized",
          "delayed",
          "paused",
          "waiting-children",
        );
        return Object.values(counts).every((c) => c === 0);
      },
      async stop() {
        await worker.close();
        await queue.close();
      },
    };
  },
};
