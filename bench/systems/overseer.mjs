// Overseer adapters (SQLite, and PostgreSQL from a postgres:// URL). Load the built SDK from dist/index.js.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { config } from "../lib.mjs";

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

async function loadWithBackend(store) {
  await sdk();
  await import(new URL(`../../dist/store/${store}`, import.meta.url).href);
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

/** A worker child's Overseer: done when `countJobs().succeeded` reaches N (Overseer keeps succeeded jobs). */
async function startWorker(database, durability, handler, workerOptions) {
  const overseer = await open(database, durability, async (payload) => handler(payload));
  const worker = overseer.worker(workerOptions);
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
}

/** @param {{ durability?: "normal" | "full" }} variant */
/** What both Overseer systems do the same way on the producer side, whatever their database. */
const producer = {
  workerArgs(ctx) {
    return { database: ctx.database };
  },

  async enqueueOne(ctx, payload) {
    await ctx.overseer.enqueue("noop", payload);
  },

  async enqueueBulk(ctx, payloads) {
    await ctx.overseer.enqueueMany(payloads.map((payload) => ({ task: "noop", payload })));
  },
};

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

    ...producer,

    async teardown(ctx) {
      if (!ctx) return;
      try {
        await ctx.overseer?.close();
      } finally {
        rmSync(ctx.dir, { recursive: true, force: true });
      }
    },

    /**
     * Loads the SDK and its SQLite backend in a worker child before its clock starts, as the
     * peers' adapters import their libraries and drivers statically (the SDK loads a backend
     * only when a database asks for it).
     */
    load: () => loadWithBackend("sqlite/sqlite-store.js"),

    startWorker({ concurrency, handler, args }) {
      return startWorker(args.database, durability, handler, { concurrency });
    },
  };
}

export default overseerSystem();

const PG_SCHEMA = "bench_overseer";

/**
 * The bench PostgreSQL URL with `options=-c search_path=<schema>`: node-postgres passes URL query
 * parameters through as connection settings, so every connection Overseer opens (pool and LISTEN
 * client, in the parent and in the worker child) lands in the schema without any other option.
 */
export function pgUrlForSchema(schema, base = config.pgUrl) {
  const url = new URL(base);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

/** Overseer on PostgreSQL: `createOverseer({ database: "postgres://…" })`, a fresh schema per scenario. */
export function overseerPgSystem() {
  const database = pgUrlForSchema(PG_SCHEMA);
  return {
    label: "Overseer (PostgreSQL)",
    storage: "PostgreSQL",
    version,
    settings: [
      `\`createOverseer({ database: "postgres://…/test?options=-c search_path=${PG_SCHEMA}" })\` (the PostgreSQL backend, chosen by the \`postgres://\` URL; a fresh schema \`${PG_SCHEMA}\` per scenario, created before and dropped after; durability is the server's \`synchronous_commit\`, but for a held job's start, which does not wait for the WAL flush)`,
      `pool of 10 connections (default) plus one LISTEN connection per process; \`overseer.worker({ concurrency })\` with its default \`prefetch: "auto"\` (claimed jobs held until a slot frees, as many as the slots finish in about 100 ms: Overseer's counterpart of graphile-worker's local queue); one-at-a-time enqueue \`enqueue\`, bulk \`enqueueMany(array)\``,
      "completed = `countJobs().succeeded` reaches N (Overseer keeps succeeded jobs)",
    ],

    async setup() {
      await sdk();
      const { withClient } = await import("./pg-util.mjs");
      const fresh = () =>
        withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${PG_SCHEMA}" CASCADE; CREATE SCHEMA "${PG_SCHEMA}"`));
      await fresh();
      try {
        const overseer = await open(database, null, async () => {
          // producer side: this process never runs jobs
        });
        return { overseer, database };
      } catch (err) {
        await dropPgSchema();
        throw err;
      }
    },

    ...producer,

    async teardown(ctx) {
      try {
        await ctx?.overseer?.close();
      } finally {
        await dropPgSchema();
      }
    },

    load: () => loadWithBackend("postgres/postgres-store.js"),

    startWorker({ concurrency, handler, args }) {
      return startWorker(args.database, null, handler, { concurrency });
    },

    /** Run once at the end of the bench: no schema may be left behind, whatever happened. */
    cleanup: dropPgSchema,
  };
}

async function dropPgSchema() {
  const { dropSchema } = await import("./pg-util.mjs");
  await dropSchema(PG_SCHEMA);
}
