/**
 * A durable job's steps as a timeline (like Temporal's event history or Inngest's trace), built
 * from its `step.*` events and its stored step records: one entry per step, in the order the
 * steps began, with its status, attempt, timing and result size. Pure, so that it is tested as
 * tables; the API serves it at `GET /api/v1/jobs/:id/steps`.
 *
 * Steps recorded without events (sleeps, waits, approvals, and steps recorded before step events
 * existed, or whose events retention deleted) appear from their records alone.
 */
import type { StepRecord } from "./durable.js";
import type { StepKind } from "./step-kinds.js";
import type { JobState, OverseerEvent } from "./types.js";

/**
 * `interrupted`: it began but its execution ended without finishing it (the worker died or lost
 * the job's lease, or the job moved on); it runs again when the job does. `waiting`: a sleep
 * whose wake time is still ahead.
 */
export type StepStatus = "running" | "completed" | "failed" | "interrupted" | "waiting";

export interface StepView {
  name: string;
  kind: StepKind;
  status: StepStatus;
  /** The attempt that ran it last; null when unknown. */
  attempt: number | null;
  /** How many times it began (a step that failed begins again on the job's next attempt). */
  starts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** Bytes of its stored result as JSON; null until it completed. */
  resultBytes: number | null;
  /** Why its last start failed, while it has not completed since. */
  error: { code: string; message: string } | null;
}

/** What the timeline needs of the job itself, to tell a step still running from one left behind. */
export interface StepTimelineContext {
  jobState: JobState;
  /** The job's attempt count: the attempt running now, if it runs. */
  jobAttempts: number;
  /** Now, in epoch ms: whether a sleep has ended. */
  now: number;
}

/** Names under which `ctx.gate` marks a notification as sent: not steps of the handler's own. */
const GATE_MARKER = "gate:";

interface Entry extends StepView {
  /** When it first began (or was stored), for the order. */
  firstAt: string;
  seq: number;
}

interface StepEventData {
  name?: unknown;
  attempt?: unknown;
  durationMs?: unknown;
  error?: { code?: unknown; message?: unknown };
}

export function stepTimeline(
  events: readonly OverseerEvent[],
  records: readonly StepRecord[],
  context: StepTimelineContext,
): StepView[] {
  const steps = new Map<string, Entry>();
  for (const event of events) {
    if (!event.kind.startsWith("step.")) continue;
    const data = (event.data ?? {}) as StepEventData;
    if (typeof data.name !== "string") continue;
    const attempt = typeof data.attempt === "number" ? data.attempt : null;
    let step = steps.get(data.name);
    if (event.kind === "step.started") {
      if (!step) {
        step = { ...blank(data.name, "step"), firstAt: event.at, seq: event.seq };
        steps.set(data.name, step);
      }
      Object.assign(step, { status: "running", attempt, startedAt: event.at, finishedAt: null, durationMs: null });
      step.starts += 1;
      step.error = null;
      continue;
    }
    // An end with no start kept, or one from an execution older than the last start (it lost
    // its lease, and a newer one began the step again), says nothing about the step now.
    if (!step || (attempt !== null && step.attempt !== null && attempt < step.attempt)) continue;
    step.status = event.kind === "step.completed" ? "completed" : "failed";
    step.finishedAt = event.at;
    step.durationMs = typeof data.durationMs === "number" ? data.durationMs : null;
    step.error =
      event.kind === "step.failed"
        ? { code: String(data.error?.code ?? "ERROR"), message: String(data.error?.message ?? "") }
        : null;
  }
  for (const record of records) {
    if (record.name.startsWith(GATE_MARKER)) continue;
    let step = steps.get(record.name);
    if (!step) {
      step = { ...blank(record.name, record.kind), firstAt: record.createdAt, seq: Number.MAX_SAFE_INTEGER };
      steps.set(record.name, step);
    }
    // The stored record is the truth about completion: a step whose completed event is missing
    // (its execution lost its lease between the two writes) is completed all the same.
    step.kind = record.kind;
    step.resultBytes = new TextEncoder().encode(record.resultJson).length;
    step.error = null;
    if (step.status !== "completed") {
      step.status = "completed";
      step.finishedAt = record.createdAt;
    }
    if (record.kind === "sleep") sleepStatus(step, record, context.now);
  }
  for (const step of steps.values()) {
    if (step.status === "running" && leftBehind(step, context)) step.status = "interrupted";
  }
  return [...steps.values()]
    .sort((a, b) => a.firstAt.localeCompare(b.firstAt) || a.seq - b.seq)
    .map(({ firstAt: _, seq: __, ...step }) => step);
}

/** A sleep's record is stored when it begins, with its wake time as its result. */
function sleepStatus(step: Entry, record: StepRecord, now: number): void {
  const wakeAt = Date.parse(JSON.parse(record.resultJson) as string);
  step.startedAt = record.createdAt;
  if (Number.isFinite(wakeAt) && wakeAt > now) {
    step.status = "waiting";
    step.finishedAt = null;
  } else {
    step.finishedAt = Number.isFinite(wakeAt) ? new Date(wakeAt).toISOString() : record.createdAt;
  }
}

/** A step still marked running whose execution is over: an older attempt's, or the job is not running. */
function leftBehind(step: StepView, context: StepTimelineContext): boolean {
  if (context.jobState !== "running") return true;
  return step.attempt !== null && step.attempt < context.jobAttempts;
}

function blank(name: string, kind: StepKind): StepView {
  return {
    name,
    kind,
    status: "running",
    attempt: null,
    starts: 0,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    resultBytes: null,
    error: null,
  };
}
