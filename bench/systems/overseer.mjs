// Overseer adapter (SQLite). Loads the built SDK from dist/index.js.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DIST = new URL("../../dist/index.js", import.meta.url);
let sdkPromise = null;

async function sdk() {
  if (!sdkPromise) {
    sdkPromise = (async () => {
      if (!existsSync(DIST)) {
        throw new Error("dist/index.js not found: Overseer is not built (`npm run build`)");
      }
      const mod = await import(DIST.href);
      if (typeof mod.createOverseer !== "function" || typeof mod.defineTask !== "function") {
        throw new Error("dist/index.js does not export createOverseer/defineTask");
      }
      return mod;
    })();
  }
  return sdkPromise;
}

function version() {
  const pkg = new URL("../../package.json", import.meta.url);
  return JSON.parse(readFileSync(pkg, "utf8")).version;
}

async function open(database, durability, handler) {
  const { createOverseer, defineTask } = await sdk();
  const noop = defineTask("noop", handler);
  const options = { database, tasks: [noop] };
  if (durability) options.durability = durability;
  return createOverseer(options);
}

/** @param {{ durability?: "normal" | "full" }} variant */
export function overseerSystem(variant = {}) {
  const durability = variant.durability ?? null;
  return {
    label: durability ? `Overseer (durability: ${durability})` : "Overseer",
    storage: "SQLite",
    version,
    settings: [
      `\`createOverseer({ database: <fresh temp file>${durability ? `, durability: "${durability}"` : ""} })\` (${durability ? "" : "default durability, i.e. SQLite WAL with `synchronous=NORMAL`; "}a fresh SQLite file per scenario)`,
      "`overseer.worker({ concurrency })`; one-at-a-time enqueue `enqueue`, bulk `enqueueMany(array)`",
      "completed = `countJobs().succeeded` reaches N (Overseer keeps succeeded jobs)",
    ],

    async setup() {
      await sdk();
      const dir = mkdtempSync(join(tmpdir(), "overseer-bench-"));
      const database = join(dir, "bench.db");
      const overseer = await open(database, durability, async () => {
        // producer side: this process never runs jobs
      });
      return { overseer, dir, database };
    },

    workerArgs(ctx) {
      return { database: ctx.database };
    },

    async enqueueOne(ctx, payload) {
      await ctx.overseer.enqueue("noop", payload);
    },

    async enqueueBulk(ctx, payloads) {
      await ctx.overseer.enqueueMany(payloads.map((payload) => ({ task: "noop", payload })));
    },

    async teardown(ctx) {
      if (!ctx) return;
      try {
        await ctx.overseer?.close();
      } finally {
        rmSync(ctx.dir, { recursive: true, force: true });
      }
    },

    async startWorker({ concurrency, handler, args }) {
      const overseer = await open(args.database, durability, async (payload) => handler(payload));
      const worker = overseer.worker({ concurrency });
      await worker.start();
      return {
        async isDrained(n) {
          const counts = await overseer.countJobs();
          return counts.succeeded >= n;
        },
        async stop() {
          await worker.stop();
          await overseer.close();
        },
      };
    },
  };
}

export default overseerSystem();
