/**
 * The retention pass, for both backends: finished jobs by age and count per state, finished runs
 * (with their turns and output), closed alerts (with their notifications), lessons and events, each batch
 * read, handed to the archive callback, and only then deleted in a transaction of its own (the
 * archive may take long; no transaction is open while it runs). A row that changed while its
 * batch was archived stays (see operations.ts).
 */

import { rollUpJobs } from "../rollups/pass.js";
import type { PruneOptions, PruneResult, RetentionPolicy, RetentionRule } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import * as ops from "./operations.js";

/** What a store lends the pass: its reads and its write transactions (synchronous on SQLite). */
export interface Runner {
  read<T>(body: (db: Db) => Op<T>): T | Promise<T>;
  transact<T>(body: (tx: Tx) => Op<T>): T | Promise<T>;
}

const PRUNE_BATCH = 500;
/** Workers are forgotten with the events, or after a week if events are kept for good. */
const WORKERS_KEPT_MS = 7 * 86_400_000;

/** Deletes (or, in a dry run, counts) what the policy says is old enough, archiving each batch first. */
export async function prune(store: Runner, policy: RetentionPolicy, options: PruneOptions = {}): Promise<PruneResult> {
  const result: PruneResult = {
    jobs: { succeeded: 0, dead: 0, cancelled: 0 },
    events: 0,
    runs: 0,
    alerts: 0,
    lessons: 0,
  };
  // Finished jobs are counted into the rollups before any is deleted, so the rollups outlive them.
  if (!options.dryRun) await rollUpJobs(store);
  const now = await store.read((db) => db.now());
  for (const state of ["succeeded", "dead", "cancelled"] as const) {
    const rule = policy.jobs[state];
    if (rule) result.jobs[state] = await pruneJobs(store, state, rule, now, options);
  }
  if (policy.runs) result.runs = await pruneKeyed(store, ops.RUNS, policy.runs, now, options);
  if (policy.alerts) result.alerts = await pruneKeyed(store, ops.ALERTS, policy.alerts, now, options);
  if (policy.lessons) result.lessons = await pruneKeyed(store, ops.LESSONS, policy.lessons, now, options);
  if (policy.events) result.events = await pruneEvents(store, policy.events, now, options);
  if (!options.dryRun) {
    const cutoff = now - (policy.events?.maxAgeMs ?? WORKERS_KEPT_MS);
    await store.transact((tx) => ops.deleteOldWorkers(tx, cutoff));
  }
  return result;
}

/**
 * The oldest jobs first, a batch at a time. A dry run cannot delete, so it reads everything in one
 * query instead of paging; a batch whose first job is the previous one's deleted nothing, and ends.
 */
async function pruneJobs(
  store: Runner,
  state: "succeeded" | "dead" | "cancelled",
  rule: RetentionRule,
  now: number,
  options: PruneOptions,
): Promise<number> {
  const limit = options.dryRun ? Number.MAX_SAFE_INTEGER : PRUNE_BATCH;
  let seen = "";
  let n = 0;
  for (;;) {
    const rows = await store.read((db) => ops.prunableJobs(db, state, rule, now, limit));
    if (rows.length === 0 || rows[0]?.id === seen) return n;
    if (options.dryRun) return rows.length;
    seen = rows[0]?.id ?? "";
    // The batch (attempts included) is read only for an archive to take.
    if (options.archive) await options.archive(await store.read((db) => ops.jobsBatch(db, rows)));
    n += await store.transact((tx) => ops.deleteJobs(tx, rows));
  }
}

/** Runs, alerts and lessons, paged by key: a kept row is not read again, and a dry run pages the same way. */
async function pruneKeyed<R extends { id: string; version: number }>(
  store: Runner,
  kind: ops.KeyedKind<R>,
  rule: RetentionRule,
  now: number,
  options: PruneOptions,
): Promise<number> {
  let after: [number, string] = [-1, ""];
  let n = 0;
  for (;;) {
    const rows = await store.read((db) => ops.prunableKeyed(db, kind, rule, now, after, PRUNE_BATCH));
    const last = rows.at(-1);
    if (last === undefined) return n;
    after = [kind.at(last), last.id];
    if (options.dryRun) {
      n += rows.length;
      continue;
    }
    if (options.archive) await options.archive(await store.read((db) => kind.batch(db, rows)));
    n += await store.transact((tx) => ops.deleteKeyed(tx, kind, rows));
  }
}

/** Events, oldest first, up to the newest the rule lets go. */
async function pruneEvents(store: Runner, rule: RetentionRule, now: number, options: PruneOptions): Promise<number> {
  const upTo = await store.read((db) => ops.lastPrunableEvent(db, rule, now));
  if (options.dryRun) return store.read((db) => ops.countEventsUpTo(db, upTo));
  let n = 0;
  for (;;) {
    const rows = await store.read((db) => ops.eventsUpTo(db, upTo, PRUNE_BATCH * 4));
    const last = rows.at(-1);
    if (last === undefined) return n;
    await options.archive?.({ ...ops.emptyBatch(), events: rows });
    n += await store.transact((tx) => ops.deleteEventsUpTo(tx, last.seq));
  }
}
