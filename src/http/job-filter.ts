/**
 * The job filter shared by `GET /jobs` (query string) and the bulk operations (JSON body),
 * whose schemas are the contract's (contract/jobs.ts): its translation to the store's JobFilter,
 * with times as epoch ms.
 */
import { OverseerError } from "../core/errors.js";
import { parsePayloadMatches } from "../core/payload-filter.js";
import { JOB_STATES, type JobState } from "../core/types.js";
import type { JobFilter } from "../store/store.js";
import type { BulkRequest, JobListQuery } from "./contract/jobs.js";

/** A listing's query string or a bulk operation's body: both carry the filter's fields. */
export type JobFilterInput = JobListQuery | BulkRequest;

/** Comma-separated (`queued,running`) or a list; INVALID_STATE_FILTER for a state that does not exist. */
export function parseStates(value: string | string[] | undefined): JobState[] | undefined {
  if (value === undefined) return undefined;
  const names = (Array.isArray(value) ? value : value.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  for (const name of names) {
    if (!(JOB_STATES as readonly string[]).includes(name)) {
      throw new OverseerError("INVALID_STATE_FILTER", `state "${name}" does not exist; use ${JOB_STATES.join(", ")}`, {
        field: "state",
        state: name,
      });
    }
  }
  return names.length > 0 ? (names as JobState[]) : undefined;
}

export function toJobFilter(input: JobFilterInput): JobFilter {
  const filter: JobFilter = {};
  const states = parseStates(input.state);
  if (states) filter.states = states;
  if (input.queue !== undefined) filter.queue = input.queue;
  if (input.task !== undefined) filter.task = input.task;
  if (input.q !== undefined) filter.search = input.q;
  const payload = parsePayloadMatches(Object.entries(input));
  if (payload.length > 0) filter.payload = payload;
  for (const field of ["createdAfter", "createdBefore", "finishedAfter", "finishedBefore"] as const) {
    const value = input[field];
    if (value !== undefined) filter[field] = parseTime(value, field);
  }
  return filter;
}

export function parseTime(value: string, field: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new OverseerError("INVALID_ARGUMENT", `${field} must be an ISO-8601 time; got "${value}"`, { field });
  }
  return ms;
}
