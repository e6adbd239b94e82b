/** What both backends' recording of attempt outcomes shares (see their finish.ts). */
import type { NewJob } from "../core/job-options.js";
import type { AttemptResult } from "./store.js";

/**
 * Whether recording `results` (those `applied`) made work ready, so idle workers should look: a
 * retry or a job handed back waits again, and a follow-up job (core/follow-up.ts) is new.
 */
export function madeWorkReady(results: readonly AttemptResult[], applied: readonly boolean[]): boolean {
  return results.some(
    (r, i) =>
      applied[i] &&
      (r.outcome === "retry" ||
        r.outcome === "released" ||
        ((r.outcome === "succeeded" || r.outcome === "dead") && r.followUp !== undefined)),
  );
}

/** What the event of a job's end says of the follow-up job it enqueued: its id, if any. */
export function named(followUp: NewJob | undefined): { followUp?: string } {
  return followUp === undefined ? {} : { followUp: followUp.id };
}
