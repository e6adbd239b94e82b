/**
 * Whether one job's or one run's events can be asked for: the HTTP routes and the CLI answer an
 * unknown subject alike. A discarded job's record is gone but its events are kept and stay
 * readable, so a subject is unknown only when it has neither a record nor an event.
 */
import { jobNotFound, runNotFound } from "../core/errors.js";
import type { Store } from "../store/store.js";

export type EventSubject = { jobId: string; runId?: undefined } | { runId: string; jobId?: undefined };

/** What the check reads; an Overseer is one. */
export type SubjectReads = Pick<Store, "getJob" | "getRun" | "readEvents">;

/** Throws JOB_NOT_FOUND or RUN_NOT_FOUND for a job or run that never existed. */
export async function assertSubjectKnown(store: SubjectReads, subject: EventSubject): Promise<void> {
  const exists = subject.jobId !== undefined ? await store.getJob(subject.jobId) : await store.getRun(subject.runId);
  if (exists || (await store.readEvents({ ...subject, afterSeq: 0, limit: 1 })).length > 0) return;
  if (subject.jobId !== undefined) throw jobNotFound(subject.jobId);
  throw runNotFound(subject.runId);
}
