/**
 * One client's view of the event log, whatever the transport (SSE or WebSocket): what it missed
 * since its cursor, then live events from the shared reader, with no gap and no duplicate
 * across the switch, optionally only one job's events, ending after a finished job's terminal
 * event.
 *
 * How the switch stays exact: the feed subscribes to the hub first and queues what the hub
 * delivers; the hub's cursor at that moment (S0) splits the log in two. Events up to S0 are read
 * from the store (replay), events after S0 come from the queue; each event goes out only if its
 * seq is above the last one sent. A client that cannot keep up (its transport's buffer, or the
 * queue while it replays, grows past the limit) is cut off and resumes from its cursor.
 */
import { jobNotFound, OverseerError, runNotFound } from "../../core/errors.js";
import { RUN_TERMINAL_EVENTS } from "../../core/run.js";
import { isFinishedRunState } from "../../core/run-state.js";
import { FINISHED_STATES, type OverseerEvent } from "../../core/types.js";
import type { EventSubject } from "../../sdk/event-subjects.js";
import type { Store } from "../../store/store.js";
import type { EventHub, HubEvent } from "./event-hub.js";

/** Kinds after which a job's stream ends: it reached a finished state. */
export const TERMINAL_KINDS: ReadonlySet<string> = new Set(["job.succeeded", "job.dead", "job.cancelled"]);
/** Kinds that take a finished job back to waiting (a retry of a dead or cancelled job). */
const REOPENING_KINDS: ReadonlySet<string> = new Set(["job.retried"]);

/** One job's or one run's events; a feed without a subject follows the whole log. */
export type { EventSubject };

function isOfSubject(event: OverseerEvent, subject: EventSubject): boolean {
  return subject.jobId !== undefined ? event.jobId === subject.jobId : event.runId === subject.runId;
}

/** Whether `event` ends the subject's stream (its job or run finished). */
function endsSubject(event: OverseerEvent, subject: EventSubject | undefined): boolean {
  if (subject === undefined) return false;
  return (subject.jobId !== undefined ? TERMINAL_KINDS : RUN_TERMINAL_EVENTS).has(event.kind);
}

const REPLAY_PAGE = 500;
/** Live events queued while the replay runs; a client whose replay takes longer is cut off. */
const MAX_QUEUED = 50_000;

/** Where a feed writes. `buffered` is what the transport holds unsent, in bytes. */
export interface FeedSink {
  /** Events in seq order; `whole` is true when they are the hub's entire batch (transports may share its encoding). */
  send(events: readonly HubEvent[], whole: boolean): void;
  buffered(): number;
  /** Resolves once the transport's buffer has drained (or the client went away). */
  drained(): Promise<void>;
  /** The job's stream is complete. */
  end(): void;
  /** The client fell too far behind: drop it; it resumes from its last event id. */
  overflow(): void;
}

export interface FeedRequest {
  /** Resume after this seq; null: live from now (all events) or from the start (one job or run). */
  since: number | null;
  subject?: EventSubject;
}

export interface FeedLimits {
  /** Bytes a client may leave unread before it is cut off. */
  maxBufferedBytes: number;
}

/**
 * Checks a stream request before anything is sent, so that its failure can still be a status
 * code: JOB_NOT_FOUND or RUN_NOT_FOUND for an unknown subject, EVENTS_TRIMMED when the cursor is older than what
 * retention kept. Returns the seq to resume after.
 */
export async function resolveStart(
  store: Pick<Store, "getJob" | "getRun" | "readEvents">,
  hub: EventHub,
  request: FeedRequest,
): Promise<{ since: number; finished: boolean }> {
  let finished = false;
  const { subject } = request;
  if (subject?.jobId !== undefined) {
    const job = await store.getJob(subject.jobId);
    if (!job) throw jobNotFound(subject.jobId);
    finished = (FINISHED_STATES as readonly string[]).includes(job.state);
  } else if (subject?.runId !== undefined) {
    const run = await store.getRun(subject.runId);
    if (!run) throw runNotFound(subject.runId);
    finished = isFinishedRunState(run.state);
  }
  if (request.since === null) {
    // A subject's stream starts with its whole (retained) history; the log's, with what happens next.
    return { since: subject === undefined ? hub.cursor : 0, finished };
  }
  const since = request.since;
  const [oldest] = await store.readEvents({ afterSeq: 0, limit: 1 });
  // Seqs are never reused, so a cursor below the oldest kept event's predecessor lost events.
  if (oldest && since < oldest.seq - 1) {
    throw new OverseerError(
      "EVENTS_TRIMMED",
      `events after ${since} have been deleted by retention; the oldest kept is ${oldest.seq}. Reload, then stream from now`,
      { since, oldestSeq: oldest.seq },
    );
  }
  return { since, finished };
}

export class EventFeed {
  private lastSent: number;
  /** The subject's events sent so far end in a finished state (a terminal event, not reopened since). */
  private finishedInHistory = false;
  /** A reopening event was sent: whatever the subject's state was at the start, it has left it. */
  private reopened = false;
  private replaying = true;
  private queued: HubEvent[] = [];
  private closed = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: Pick<Store, "readEvents">,
    private readonly hub: EventHub,
    private readonly sink: FeedSink,
    private readonly limits: FeedLimits,
    private readonly subject: EventSubject | undefined,
    since: number,
  ) {
    this.lastSent = since;
  }

  /** The seq of the last event sent: the client's resume point. */
  get cursor(): number {
    return this.lastSent;
  }

  /** Replays what the client missed, then follows live. `finishedAtStart`: the subject had finished. */
  async run(finishedAtStart: boolean): Promise<void> {
    this.unsubscribe = this.hub.subscribe((batch) => this.onLive(batch));
    // A subject's history is replayed from the store to its end, not only to the hub's cursor
    // (the hub reads on a wakeup or a timer, after the commit): past that cursor may lie its last
    // events, or a terminal event it has since left (a dead job, retried), and only the whole
    // history tells the two apart. The whole log's stream replays up to the hub's cursor.
    const split = this.subject !== undefined ? Number.MAX_SAFE_INTEGER : this.hub.cursor;
    await this.replay(split);
    if (this.closed) return;
    // Finished at the start and not reopened since, or since: its history, read after its state,
    // holds a terminal event with no reopening after it (events such as a log line may follow one).
    if (this.subject !== undefined && ((finishedAtStart && !this.reopened) || this.finishedInHistory)) {
      this.finish();
      return;
    }
    this.replaying = false;
    const queued = this.queued;
    this.queued = [];
    const upToEnd: HubEvent[] = [];
    for (const e of queued) {
      upToEnd.push(e);
      if (endsSubject(e.event, this.subject)) break;
    }
    this.sendAll(upToEnd, true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.queued = [];
  }

  private async replay(upTo: number): Promise<void> {
    while (!this.closed && this.lastSent < upTo) {
      const page = await this.store.readEvents({ afterSeq: this.lastSent, ...this.subject, limit: REPLAY_PAGE });
      const upToSplit: HubEvent[] = [];
      for (const event of page) {
        if (event.seq > upTo) break;
        upToSplit.push({ event, json: JSON.stringify(event) });
      }
      // History may hold a terminal event the job has since left (dead, then retried): the
      // replay does not end there; what follows it, or the job's state, tells.
      if (!this.sendAll(upToSplit, false)) return;
      if (upToSplit.length < page.length || page.length < REPLAY_PAGE) return;
      // Replay at the client's pace: wait for its buffer to drain rather than cut it off.
      if (this.sink.buffered() > this.limits.maxBufferedBytes / 2) await this.sink.drained();
    }
  }

  private onLive(batch: readonly HubEvent[]): void {
    if (this.closed) return;
    if (this.replaying) {
      for (const e of batch) if (this.matches(e.event)) this.queued.push(e);
      if (this.queued.length > MAX_QUEUED) this.cutOff();
      return;
    }
    // Judged before writing: a client still holding more than the limit unread since the last
    // batch is not keeping up. So a client holds at most the limit plus one batch (the hub reads
    // at most 1,000 events at a time), and one burst alone never cuts off a client that reads.
    if (this.sink.buffered() > this.limits.maxBufferedBytes) {
      this.cutOff();
      return;
    }
    // The common case, a live stream of everything: the whole batch in one write.
    const first = batch[0];
    if (this.subject === undefined && first && first.event.seq > this.lastSent) {
      this.sink.send(batch, true);
      this.lastSent = batch[batch.length - 1]?.event.seq ?? this.lastSent;
      return;
    }
    const out: HubEvent[] = [];
    for (const e of batch) {
      if (!this.matches(e.event) || e.event.seq <= this.lastSent) continue;
      out.push(e);
      if (endsSubject(e.event, this.subject)) break;
    }
    this.sendAll(out, true);
  }

  /** Sends events not yet sent, in one write; with `endAtTerminal`, ends a subject's feed at its terminal event. */
  private sendAll(events: readonly HubEvent[], endAtTerminal: boolean): boolean {
    if (this.closed) return false;
    const fresh = events.filter((e) => e.event.seq > this.lastSent);
    if (fresh.length === 0) return true;
    this.sink.send(fresh, false);
    const last = fresh[fresh.length - 1] as HubEvent;
    this.lastSent = last.event.seq;
    if (this.subject !== undefined) this.followState(fresh);
    if (endAtTerminal && endsSubject(last.event, this.subject)) {
      this.finish();
      return false;
    }
    return true;
  }

  private followState(events: readonly HubEvent[]): void {
    for (const { event } of events) {
      if (endsSubject(event, this.subject)) this.finishedInHistory = true;
      else if (REOPENING_KINDS.has(event.kind)) {
        this.finishedInHistory = false;
        this.reopened = true;
      }
    }
  }

  private matches(event: OverseerEvent): boolean {
    return this.subject === undefined || isOfSubject(event, this.subject);
  }

  private finish(): void {
    this.close();
    this.sink.end();
  }

  private cutOff(): void {
    this.close();
    this.sink.overflow();
  }
}
