/** Pure helpers of the job verbs (see operations.ts): the counts' shape and the refusal of a verb a job's state forbids. */
import { OverseerError } from "../../core/errors.js";
import { JOB_STATES, type JobState } from "../../core/types.js";
import type { JobRow } from "../rows.js";

/** Zero for every state, so that a state no job is in still counts (as 0). */
export function emptyCounts(): Record<JobState, number> {
  return Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
}

/** INVALID_TRANSITION: the job's state does not allow `verb`; `allowed` names the states that do. */
export function invalidTransition(row: JobRow, verb: string, allowed: string): OverseerError {
  return new OverseerError("INVALID_TRANSITION", `job ${row.id} is ${row.state}; only ${allowed} jobs can be ${verb}`, {
    id: row.id,
    state: row.state,
  });
}
