/**
 * Errors as data. Every error Overseer raises carries a stable code from this registry; the
 * HTTP layer maps the code to its status, the CLI prints `code: message`, and
 * `docs/errors.md` documents each code (a test keeps them in step).
 */

export const ERROR_CODES = {
  INVALID_ARGUMENT: { status: 400, summary: "An option or argument is missing or malformed." },
  UNKNOWN_COMMAND: { status: 400, summary: "The CLI was given a command it does not have." },
  INVALID_TASK_NAME: { status: 400, summary: "A task name is empty or uses characters outside [A-Za-z0-9._:-]." },
  INVALID_PAYLOAD: { status: 400, summary: "A payload cannot be stored as JSON." },
  INVALID_CHARACTER: {
    status: 400,
    summary: "A string holds a NUL character (U+0000), which no backend stores; details name where.",
  },
  INVALID_STATE_FILTER: { status: 400, summary: "A state filter names no job state." },
  UNKNOWN_EVENT_KIND: { status: 400, summary: "An event kind was appended that no one registered." },
  JOB_NOT_FOUND: { status: 404, summary: "No job has this id." },
  INVALID_TRANSITION: { status: 409, summary: "The job's current state does not allow this operation." },
  RUN_INVALID_TRANSITION: {
    status: 409,
    summary: "The run's current state does not allow this control action (pause, resume or cancel).",
  },
  RUN_NOT_FOUND: { status: 404, summary: "No run has this id." },
  RUN_FINISHED: { status: 409, summary: "The run has finished: it takes no more messages." },
  RUN_TOO_MANY_MESSAGES: {
    status: 409,
    summary: "The run already has as many messages waiting for its next turn as it takes (50).",
  },
  RUN_NOT_FINISHED: { status: 409, summary: "The run has not finished: only a finished run can be rerun." },
  RUN_TAKES_NO_MESSAGES: {
    status: 409,
    summary: "The run's input template has no {{messages}}, so a message would never reach its turns.",
  },
  LESSON_NOT_FOUND: {
    status: 404,
    summary: "No lesson has this id (it may have been deleted, or pruned by retention).",
  },
  STEP_NOT_FOUND: { status: 404, summary: "The job has stored no result under this step name (yet)." },
  RUN_PROFILE_NOT_FOUND: { status: 400, summary: "No run profile of this name is in the config file." },
  INVALID_RUN_PARAMS: { status: 400, summary: "A run's params do not fit its profile's params schema." },
  AD_HOC_RUNS_DISABLED: {
    status: 403,
    summary: "A run asked for a command of its own, and the config does not allow ad-hoc commands.",
  },
  RUN_TURN_NOT_FOUND: { status: 404, summary: "The run has no turn with this number (yet)." },
  RANGE_NOT_SATISFIABLE: { status: 416, summary: "The byte range asked for starts beyond the end of the output." },
  APPROVAL_NOT_FOUND: { status: 404, summary: "No approval request has this id." },
  APPROVAL_SETTLED: {
    status: 409,
    summary: "The approval request was already settled (approved, denied, timed out or cancelled).",
  },
  APPROVAL_FORBIDDEN: {
    status: 403,
    summary: "The caller may not decide this approval: not among its approvers, or the one who asked.",
  },
  APPROVAL_ALREADY_DECIDED: {
    status: 409,
    summary: "The caller already approved this request; its quorum needs different approvers.",
  },
  ALERT_NOT_FOUND: { status: 404, summary: "No alert (or alert notification) has this id." },
  ALERT_INVALID_TRANSITION: {
    status: 409,
    summary: "The alert's status does not allow this action (acknowledge, escalate or close).",
  },
  HEARTBEAT_NOT_FOUND: { status: 404, summary: "No heartbeat monitor has this name in the config." },
  BUSY: {
    status: 429,
    summary:
      "The job is running, or another control action on the same job, run or approval is in progress; retry after Retry-After.",
  },
  CONCURRENCY_LIMIT_REACHED: {
    status: 409,
    summary: "The concurrency key is full and its task rejects new jobs instead of queueing them.",
  },
  DATABASE_UNAVAILABLE: { status: 503, summary: "The database cannot be opened or reached." },
  DATABASE_NOT_FOUND: {
    status: 400,
    summary: "A CLI command that only works on an existing database found no SQLite file at the path.",
  },
  SCHEMA_TOO_NEW: { status: 503, summary: "The database was migrated by a newer Overseer than this one." },
  SHUTTING_DOWN: { status: 503, summary: "The worker or store is shutting down and takes no new work." },
  TASK_NOT_FOUND: { status: 404, summary: "No handler is defined for this task in this process." },
  TASKS_DIR_INVALID: { status: 400, summary: "A tasks folder or one of its modules cannot be loaded." },
  INVALID_CONFIG: {
    status: 400,
    summary: "A config file is missing, unreadable or malformed, or a schedule in it is invalid.",
  },
  SCHEDULE_NOT_FOUND: { status: 404, summary: "No schedule has this name." },
  BREAKER_NOT_OPEN: { status: 409, summary: "The queue's circuit breaker is closed: there is nothing to reset." },
  VERSION_CONFLICT: {
    status: 409,
    summary: "The record changed since the version the write was based on; nothing was changed.",
  },
  UNAUTHENTICATED: { status: 401, summary: "The request carries no bearer token, or one that is unknown or revoked." },
  FORBIDDEN: { status: 403, summary: "The token's scope does not allow this operation." },
  ROUTE_NOT_FOUND: { status: 404, summary: "No HTTP route has this method and path." },
  METHOD_NOT_ALLOWED: {
    status: 405,
    summary: "The path exists but does not take this method (GET on the stateless MCP endpoint).",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    summary: "The client took longer than the server's request timeout to send a request's headers and body.",
  },
  REQUEST_TOO_LARGE: { status: 413, summary: "The request body is larger than the server accepts." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: "The request body is not JSON." },
  EVENTS_TRIMMED: {
    status: 410,
    summary: "The event stream was asked to resume from a position retention has already deleted.",
  },
  SERVER_UNREACHABLE: { status: 503, summary: "The CLI cannot reach the Overseer server at --url." },
  TOKEN_NOT_FOUND: { status: 404, summary: "No active token has this name." },
  TOKEN_NAME_TAKEN: { status: 409, summary: "An active token already has this name." },
  CLAIM_HELD: { status: 409, summary: "Someone else holds the claim and it has not expired; details name the holder." },
  CLAIM_NOT_HELD: {
    status: 409,
    summary: "The claim is not held by this owner (someone else holds it, or it expired or was released).",
  },
  CLAIM_NOT_FOUND: { status: 404, summary: "No one holds a claim on this key." },
  ROTATION_NOT_FOUND: { status: 404, summary: "No on-call rotation of this name is in the config's alerts.rotations." },
  OVERRIDE_NOT_FOUND: { status: 404, summary: "No on-call override has this id." },
  OVERRIDE_ENDED: { status: 409, summary: "The on-call override has ended or was cancelled already." },
  WORKER_NOT_FOUND: { status: 404, summary: "No worker has this id (it may have been pruned)." },
  WORKER_INVALID_TRANSITION: {
    status: 409,
    summary:
      "The worker's status does not allow this control action (quiet, stop or resume): it has stopped or is lost, a stop was asked for already, or it runs no jobs (a run supervisor).",
  },
  INTERNAL_ERROR: { status: 500, summary: "The server failed in a way it did not expect; its log has the details." },
} as const;

/** Seconds a BUSY answer tells its caller to wait: control actions take milliseconds, and a busy job is read again. */
export const BUSY_RETRY_AFTER_SECONDS = 1;

export type ErrorCode = keyof typeof ERROR_CODES;

export class OverseerError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "OverseerError";
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /**
   * Whether trying again could help: not for bad input (status 400), which fails the same way
   * every time. So a handler that passes `ctx.step` a result JSON cannot hold goes to `dead` at
   * once (`permanent_error`) instead of failing the same way at every attempt.
   */
  get retryable(): boolean {
    return this.status !== 400;
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isOverseerError(err: unknown, code?: ErrorCode): err is OverseerError {
  return err instanceof OverseerError && (code === undefined || err.code === code);
}

/**
 * Thrown by a handler to say that trying again cannot help (bad input, a refused card):
 * the job goes straight to `dead`. Any error with `retryable === false` is treated the same.
 */
export class PermanentError extends Error {
  readonly retryable = false;
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "PermanentError";
    this.code = options.code ?? "PERMANENT_ERROR";
  }
}

/** JOB_NOT_FOUND, worded the same wherever a job is looked up. */
export function jobNotFound(id: string): OverseerError {
  return new OverseerError("JOB_NOT_FOUND", `no job with id "${id}"`, { id });
}

/** RUN_NOT_FOUND, worded the same wherever a run is looked up. */
export function runNotFound(id: string): OverseerError {
  return new OverseerError("RUN_NOT_FOUND", `no run with id "${id}"`, { id });
}
