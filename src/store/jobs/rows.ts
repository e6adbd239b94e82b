/** Pure helpers of the job verbs (see operations.ts): the counts' shape and the refusal of a verb a job's state forbids. */
import { BUSY_RETRY_AFTER_SECONDS, OverseerError } from "../../core/errors.js";
import { JOB_STATES, type JobState } from "../../core/types.js";
import type { JobRow } from "../rows.js";

/** Zero for every state, so that a state no job is in still counts (as 0). */
export function emptyCounts(): Record<JobState, number> {
  return Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
}

/**
 * INVALID_TRANSITION: the job's state does not allow `verb`; `allowed` names the states that do.
 * A running job is busy rather than wrong: its handler is executing a step now, and when it
 * ends the verb may apply, so the answer is BUSY (429 with Retry-After), from any node, since
 * the state it is read from is the store's.
 */
export function invalidTransition(row: JobRow, verb: string, allowed: string): OverseerError {
  if (row.state === "running") {
    return new OverseerError(
      "BUSY",
      `job ${row.id} is running now, so it cannot be ${verb} yet (only ${allowed} jobs can be); ` +
        `read it again after ${BUSY_RETRY_AFTER_SECONDS} s and act if it still applies`,
      { job: row.id, state: row.state, retryAfter: BUSY_RETRY_AFTER_SECONDS },
    );
  }
  return new OverseerError("INVALID_TRANSITION", `job ${row.id} is ${row.state}; only ${allowed} jobs can be ${verb}`, {
    id: row.id,
    state: row.state,
  });
}
