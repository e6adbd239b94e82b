/**
 * Queue flags (paused) and their versions, written once for both backends (see ../tx.ts). A
 * queue has a row only once someone paused or resumed it; until then its version is 0. The
 * version is read with the row locked (PostgreSQL; SQLite's one writer holds every row), and the
 * upsert checks it again, so two nodes racing to create the same row cannot both pass a check
 * against version 0. Resuming wakes workers: the queue's jobs are ready again.
 *
 * The queue's circuit breaker lives on the same row (see core/breaker.ts): a worker trips it,
 * each worker's maintenance pass moves it on (cool-down over, probe's verdict, diverting due
 * jobs), and a person may reset it. Its changes do not bump the version, which stands for the
 * pause flag people set.
 */
import {
  type BreakerState,
  type BreakerTrip,
  nextBreakerState,
  type ProbeJob,
  probeVerdict,
  type QueueBreaker,
} from "../../core/breaker.js";
import { OverseerError } from "../../core/errors.js";
import type { NewJob } from "../../core/job-options.js";
import type { AttemptOutcome, Job, JobState, QueueRecord } from "../../core/types.js";
import { countByQueueState } from "../jobs/finished-counts.js";
import { emptyCounts } from "../jobs/rows.js";
import { CANCEL_WAITING_JOB } from "../jobs/statements.js";
import { iso, type JobRow, toJob } from "../rows.js";
import type { EnqueueJob } from "../schedules/operations.js";
import type { BreakerPass, PausedQueue } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import { checkVersion } from "../versions.js";
import * as q from "./statements.js";

export function* setQueuePaused(tx: Tx, name: string, paused: boolean, expectedVersion: number | undefined): Op<void> {
  const read = yield* tx.one<{ version: number }>(q.LOCK_QUEUE_VERSION, [name]);
  checkVersion("queue", name, read?.version ?? 0, expectedVersion);
  const written = yield* tx.one(q.SET_QUEUE_PAUSED, [name, paused ? 1 : 0, tx.at, expectedVersion ?? null]);
  if (written === undefined) {
    throw new OverseerError(
      "VERSION_CONFLICT",
      `queue ${name} changed since version ${expectedVersion}; read it again`,
      {
        name,
        expectedVersion,
      },
    );
  }
  tx.event(paused ? "queue.paused" : "queue.resumed", null, null, { queue: name });
  if (!paused) tx.notify();
}

/** The queue just paused or resumed, as `listQueues` shows it. */
export function* queueAfterWrite(db: Db, name: string, paused: boolean): Op<QueueRecord> {
  const queue = (yield* listQueues(db)).find((queue) => queue.name === name);
  return queue ?? { name, paused, counts: emptyCounts(), version: 1, breaker: null };
}

/** Every queue that has jobs or a flag, by name. */
export function* listQueues(db: Db): Op<QueueRecord[]> {
  const queues = new Map<string, QueueRecord>();
  const get = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = { name, paused: false, counts: emptyCounts(), version: 0, breaker: null };
      queues.set(name, queue);
    }
    return queue;
  };
  for (const r of yield* db.rows<{ name: string; paused: number; version: number } & BreakerRow>(q.LIST_QUEUE_FLAGS)) {
    const queue = get(r.name);
    queue.paused = r.paused === 1;
    queue.version = r.version;
    queue.breaker = toBreaker(r);
  }
  for (const r of yield* countByQueueState(db)) get(r.queue).counts[r.state] = r.n;
  return [...queues.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The paused queues by name, with when each was paused (its row's last change). */
export function* listPausedQueues(db: Db): Op<PausedQueue[]> {
  const rows = yield* db.rows<{ name: string; updated_at: number | string }>(q.PAUSED_QUEUES);
  return rows.map((r) => ({ name: r.name, pausedAt: iso(Number(r.updated_at)) }));
}

// -- circuit breakers ------------------------------------------------------------------------

interface BreakerRow {
  breaker_state: BreakerState;
  breaker_opened_at: number | string | null;
  breaker_probe_at: number | string | null;
  breaker_probe: string | null;
  breaker_probe_token: number | null;
  breaker_trip: string | null;
}

function toBreaker(r: BreakerRow): QueueBreaker | null {
  if (r.breaker_state === "closed") return null;
  return {
    state: r.breaker_state,
    openedAt: iso(Number(r.breaker_opened_at)),
    probeAt: iso(Number(r.breaker_probe_at)),
    probeJobId: r.breaker_probe,
    trip: JSON.parse(r.breaker_trip ?? "null") as BreakerTrip,
  };
}

/** The probe as GET_PROBE_JOB reads it: its state, and its last ended attempt if it has one. */
interface ProbeRow {
  state: JobState;
  number: number | string | null;
  outcome: AttemptOutcome | null;
}

function toProbeJob(r: ProbeRow | undefined): ProbeJob | null {
  if (r === undefined) return null;
  const ended = r.number !== null && r.outcome !== null;
  return {
    state: r.state,
    lastAttempt: ended ? { number: Number(r.number), outcome: r.outcome as AttemptOutcome } : null,
  };
}

/** Opens the queue's breaker if it is closed: true if this call opened it. */
export function* tripBreaker(tx: Tx, queue: string, trip: BreakerTrip, cooldownMs: number): Op<boolean> {
  const probeAt = tx.at + cooldownMs;
  if ((yield* tx.one(q.OPEN_BREAKER, [queue, tx.at, probeAt, JSON.stringify(trip)])) === undefined) return false;
  tx.event("queue.breaker_opened", null, null, { queue, reason: "failure_rate", ...trip, probeAt: iso(probeAt) });
  return true;
}

/** Whether the queue's breaker is open or half-open: a pass finding it closed need not write. */
export function* breakerNotClosed(db: Db, queue: string): Op<boolean> {
  return (yield* db.one(q.BREAKER_NOT_CLOSED, [queue])) !== undefined;
}

/**
 * Moves the queue's breaker on and, when it diverts, hands up to `limit` of its due jobs to the
 * fallback. An open breaker past its probe time goes half-open and picks its probe (the next due
 * job in claim order, the only one a claim may take). A half-open breaker closes on its probe's
 * success and opens again on its failure; a probe that will not run is replaced, and so is one
 * that has not started within `cooldownMs` of its pick, by the next due job if there is another.
 * While the breaker is not closed and the queue not paused, due jobs but the probe are diverted:
 * cancelled, with the follow-up `divert` builds enqueued in the same transaction.
 */
export function* breakerPass(
  tx: Tx,
  enqueue: EnqueueJob,
  queue: string,
  cooldownMs: number,
  divert: ((job: Job) => NewJob) | null,
  limit: number,
): Op<BreakerPass> {
  const row = yield* tx.one<BreakerRow & { paused: number }>(q.LOCK_BREAKER, [queue]);
  if (row === undefined || row.breaker_state === "closed") return { state: "closed", diverted: 0 };
  let state: BreakerState = row.breaker_state;
  let probe = row.breaker_probe;
  if (state === "open" && tx.at >= Number(row.breaker_probe_at)) {
    state = nextBreakerState(state, "cooled") as BreakerState;
    probe = null;
    tx.event("queue.breaker_half_open", null, null, { queue });
  }
  if (state === "half_open") {
    const job = probe === null ? null : toProbeJob(yield* tx.one<ProbeRow>(q.GET_PROBE_JOB, [probe]));
    const verdict = probeVerdict(job, row.breaker_probe_token ?? 0);
    if (verdict === "ok") {
      yield* tx.run(q.CLOSE_BREAKER, [queue, tx.at]);
      tx.event("queue.breaker_closed", null, null, { queue, reason: "probe_succeeded", probeJobId: probe });
      tx.notify();
      return { state: "closed", diverted: 0 };
    }
    if (verdict === "failed") {
      const probeAt = tx.at + cooldownMs;
      yield* tx.run(q.REOPEN_BREAKER, [queue, probeAt]);
      tx.event("queue.breaker_opened", null, null, {
        queue,
        reason: "probe_failed",
        probeJobId: probe,
        probeAt: iso(probeAt),
      });
      state = "open";
      probe = null;
    } else {
      const stalled = job?.state !== "running" && tx.at - Number(row.breaker_probe_at) >= cooldownMs;
      if (verdict === "gone" || (probe !== null && stalled)) {
        const exclude = verdict === "gone" ? null : probe;
        const next =
          (yield* tx.one<{ id: string; lease_token: number }>(q.NEXT_DUE_JOB_OF_QUEUE, [queue, tx.at, exclude])) ??
          (exclude === null ? undefined : { id: exclude, lease_token: row.breaker_probe_token ?? 0 });
        probe = next?.id ?? null;
        yield* tx.run(q.SET_BREAKER_PROBE, [queue, probe, next?.lease_token ?? null, tx.at]);
        if (probe !== null && probe !== row.breaker_probe) {
          tx.event("queue.breaker_probe", null, null, { queue, probeJobId: probe });
          tx.notify();
        }
      }
    }
  }
  let diverted = 0;
  if (divert !== null && row.paused !== 1) {
    for (const r of yield* tx.rows<JobRow>(q.DIVERTIBLE_JOBS_OF_QUEUE, [queue, tx.at, probe, limit])) {
      const job = toJob(r);
      const followUp = divert(job);
      if ((yield* tx.run(CANCEL_WAITING_JOB, [tx.at, job.id])) !== 1) continue;
      yield* enqueue(followUp);
      tx.event("job.cancelled", job.id, null, { while: job.state, reason: "circuit_open", followUp: followUp.id });
      diverted++;
    }
  }
  return { state, diverted };
}

/** A person closes the queue's breaker: its jobs run again at once. */
export function* resetBreaker(tx: Tx, queue: string, by: string): Op<void> {
  const row = yield* tx.one<BreakerRow>(q.LOCK_BREAKER, [queue]);
  if (row === undefined || nextBreakerState(row.breaker_state, "reset") === null) {
    throw new OverseerError("BREAKER_NOT_OPEN", `queue ${queue}'s circuit breaker is closed`, { queue });
  }
  yield* tx.run(q.CLOSE_BREAKER, [queue, tx.at]);
  tx.event("queue.breaker_closed", null, null, { queue, reason: "reset", by });
  tx.notify();
}
