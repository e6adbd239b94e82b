/**
 * A durable job's steps as a timeline (like Temporal's event history or Inngest's trace), built
 * from its `step.*` events and its stored step records: one entry per step, in the order the
 * steps began, with its status, attempt, timing and result size. Pure, so that it is tested as
 * tables; the API serves it at `GET /api/v1/jobs/:id/steps`.
 *
 * Steps recorded without events (sleeps, waits, approvals, and steps recorded before step events
 * existed) appear from their records alone, completed at the time they were stored.
 */
import type { StepKind, StepRecord } from "./durable.js";
import type { OverseerEvent } from "./types.js";

export type StepStatus = "running" | "completed" | "failed";

export interface StepView {
  name: string;
  kind: StepKind;
  status: StepStatus;
  /** The attempt that ran it (the one that completed it, or the last that tried); null when unknown. */
  attempt: number | null;
  /** How many times it began (a step that failed begins again on the job's next attempt). */
  starts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** Bytes of its stored result as JSON; null until it completed. */
  resultBytes: number | null;
  /** Its stored result; null until it completed. */
  result: unknown;
  /** Why its last start failed, while it has not completed since. */
  error: { code: string; message: string } | null;
}

/** The kinds a step's life writes to the log. */
export const STEP_EVENT_KINDS = ["step.started", "step.completed", "step.failed"] as const;

interface StepEventData {
  name?: unknown;
  attempt?: unknown;
  durationMs?: unknown;
  error?: { code?: unknown; message?: unknown };
}

export function stepTimeline(events: readonly OverseerEvent[], records: readonly StepRecord[]): StepView[] {
  const steps = new Map<string, StepView & { order: number }>();
  const recordOf = new Map(records.map((r) => [r.name, r]));
  let order = 0;
  for (const event of events) {
    if (!(STEP_EVENT_KINDS as readonly string[]).includes(event.kind)) continue;
    const data = (event.data ?? {}) as StepEventData;
    if (typeof data.name !== "string") continue;
    const attempt = typeof data.attempt === "number" ? data.attempt : null;
    let step = steps.get(data.name);
    if (!step) {
      step = { ...blank(data.name, recordOf.get(data.name)?.kind ?? "step"), order: order++ };
      steps.set(data.name, step);
    }
    if (event.kind === "step.started") {
      step.starts += 1;
      step.status = "running";
      step.attempt = attempt;
      step.startedAt = event.at;
      step.finishedAt = null;
      step.durationMs = null;
      step.error = null;
    } else {
      step.status = event.kind === "step.completed" ? "completed" : "failed";
      step.attempt = attempt ?? step.attempt;
      step.finishedAt = event.at;
      step.durationMs = typeof data.durationMs === "number" ? data.durationMs : null;
      step.error =
        event.kind === "step.failed"
          ? { code: String(data.error?.code ?? "ERROR"), message: String(data.error?.message ?? "") }
          : null;
    }
  }
  // Records without events, by the time they were stored, after those with events.
  const rest = records
    .filter((r) => !steps.has(r.name))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((r) => ({ ...blank(r.name, r.kind), status: "completed" as const, finishedAt: r.createdAt, order: order++ }));
  for (const step of rest) steps.set(step.name, step);
  return [...steps.values()]
    .sort((a, b) => a.order - b.order)
    .map(({ order: _, ...step }) => {
      const record = recordOf.get(step.name);
      // The stored record is the truth about completion: a step whose completed event is missing
      // (its execution lost its lease between the two writes) is completed all the same.
      if (!record) return step;
      return {
        ...step,
        kind: record.kind,
        status: "completed",
        error: null,
        finishedAt: step.status === "completed" ? step.finishedAt : record.createdAt,
        resultBytes: Buffer.byteLength(record.resultJson),
        result: JSON.parse(record.resultJson) as unknown,
      };
    });
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
    result: null,
    error: null,
  };
}
