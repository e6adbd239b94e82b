/**
 * Errors as data. Every error Overseer raises carries a stable code from this registry; the
 * HTTP layer maps the code to its status, the CLI prints `code: message`, and
 * `docs/errors.md` documents each code (a test keeps them in step).
 */

export const ERROR_CODES = {
  INVALID_ARGUMENT: { status: 400, summary: "An option or argument is missing or malformed." },
  INVALID_TASK_NAME: { status: 400, summary: "A task name is empty or uses characters outside [A-Za-z0-9._:-]." },
  INVALID_PAYLOAD: { status: 400, summary: "A payload cannot be stored as JSON." },
  INVALID_STATE_FILTER: { status: 400, summary: "A state filter names no job state." },
  UNKNOWN_EVENT_KIND: { status: 400, summary: "An event kind was appended that no one registered." },
  JOB_NOT_FOUND: { status: 404, summary: "No job has this id." },
  INVALID_TRANSITION: { status: 409, summary: "The job's current state does not allow this operation." },
  RUN_INVALID_TRANSITION: {
    status: 409,
    summary: "The run's current state does not allow this control action (pause, resume or cancel).",
  },
  CONCURRENCY_LIMIT_REACHED: {
    status: 409,
    summary: "The concurrency key is full and its task rejects new jobs instead of queueing them.",
  },
  DATABASE_UNAVAILABLE: { status: 503, summary: "The database cannot be opened or reached." },
  SCHEMA_TOO_NEW: { status: 503, summary: "The database was migrated by a newer Overseer than this one." },
  SHUTTING_DOWN: { status: 503, summary: "The worker or store is shutting down and takes no new work." },
  TASK_NOT_FOUND: { status: 404, summary: "No handler is defined for this task in this process." },
  TASKS_DIR_INVALID: { status: 400, summary: "A tasks folder or one of its modules cannot be loaded." },
  INVALID_CONFIG: {
    status: 400,
    summary: "A config file is missing, unreadable or malformed, or a schedule in it is invalid.",
  },
  SCHEDULE_NOT_FOUND: { status: 404, summary: "No schedule has this name." },
  VERSION_CONFLICT: {
    status: 409,
    summary: "The record changed since the version the write was based on; nothing was changed.",
  },
  UNAUTHENTICATED: { status: 401, summary: "The request carries no bearer token, or one that is unknown or revoked." },
  FORBIDDEN: { status: 403, summary: "The token's scope does not allow this operation." },
  ROUTE_NOT_FOUND: { status: 404, summary: "No HTTP route has this method and path." },
  REQUEST_TOO_LARGE: { status: 413, summary: "The request body is larger than the server accepts." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: "The request body is not JSON." },
  EVENTS_TRIMMED: {
    status: 410,
    summary: "The event stream was asked to resume from a position retention has already deleted.",
  },
  SERVER_UNREACHABLE: { status: 503, summary: "The CLI cannot reach the Overseer server at --url." },
  TOKEN_NOT_FOUND: { status: 404, summary: "No active token has this name." },
  TOKEN_NAME_TAKEN: { status: 409, summary: "An active token already has this name." },
  INTERNAL_ERROR: { status: 500, summary: "The server failed in a way it did not expect; its log has the details." },
} as const;

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
