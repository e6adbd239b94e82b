/**
 * What the MCP tools ask of Overseer, in domain verbs, as `cli/*-backend.ts` do for the
 * commands. Two ends satisfy it: the SDK's Overseer (`local-backend.ts`: the stdio server on a
 * database, and the HTTP endpoint inside the server) and the package's HTTP client
 * (`remote-backend.ts`: the stdio server with `--url`). Either way the store decides who may
 * do what; the tools only ask, and the records are the HTTP contract's.
 */
import type {
  Approval,
  Claim,
  EnqueuedJob,
  EnqueueOptions,
  Job,
  Lesson,
  RecordLessonRequest,
  RunStatus,
  SimilarLesson,
  SimilarLessonsQuery,
  TakeClaimResult,
} from "../client/index.js";
import type { ClaimHolder } from "../core/claim.js";

/** A job as enqueued: created (false when an idempotency key found an existing one), with its warnings. */
export interface EnqueuedOutcome {
  job: Job;
  created: boolean;
  warnings: NonNullable<EnqueuedJob["warnings"]>;
}

export interface McpBackend {
  /** Enqueues one job; whoever acts (the token, the local user) is recorded as its requester. */
  enqueue(task: string, payload: unknown, options: EnqueueOptions): Promise<EnqueuedOutcome>;
  /** JOB_NOT_FOUND when no job has the id. */
  getJob(id: string): Promise<Job>;
  /** The job's approval requests, pending first. */
  jobApprovals(jobId: string): Promise<Approval[]>;
  /** RUN_NOT_FOUND when no run has the id. */
  runStatus(id: string): Promise<RunStatus>;
  /** Decides as whoever acts; the store checks that they may. */
  decideApproval(id: string, decision: "approve" | "deny", reason: string | null): Promise<Approval>;
  takeClaim(key: string, owner: string, ttl: string | number, holder: ClaimHolder): Promise<TakeClaimResult>;
  refreshClaim(key: string, owner: string, ttl: string | number): Promise<Claim>;
  releaseClaim(key: string, owner: string): Promise<Claim>;
  listClaims(): Promise<Claim[]>;
  /** Recorded as whoever acts; with a `key` already used, the first lesson comes back (`created: false`). */
  recordLesson(lesson: Omit<RecordLessonRequest, "createdBy">): Promise<{ lesson: Lesson; created: boolean }>;
  similarLessons(query: SimilarLessonsQuery): Promise<SimilarLesson[]>;
  /**
   * Resolves when the records may have changed, after `ms` at the latest, or at once when
   * `signal` aborts. Waits poll with it; a backend that hears of changes wakes them sooner.
   */
  nextChange(ms: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Resolves after `ms`, or when `signal` aborts, or when `wake` is called (whichever comes first). */
export function pause(ms: number, signal: AbortSignal, subscribe?: (wake: () => void) => () => void): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    let unsubscribe: (() => void) | undefined;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      unsubscribe?.();
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    unsubscribe = subscribe?.(done);
    if (finished) unsubscribe?.();
  });
}
