/**
 * /api/v1/runs: the run, its status and its turns, the run profiles of the config, and the
 * schemas of starting, listing, reading and steering runs and of reading a turn's stored output.
 * A run's live events are in events.ts.
 */
import { TELEMETRY_MODES } from "../../core/agent-streams/modes.js";
import { RUN_CONTROL_ACTIONS, RUN_STATES } from "../../core/run-state.js";
import {
  type Accepted,
  errorResponses,
  idParams,
  integer,
  isoTime,
  nullableInteger,
  nullableString,
  nullableTime,
  openObject,
  pageSchema,
  ref,
  type Served,
  string,
} from "./schema.js";

const runStats = {
  type: "object",
  required: ["turns", "tokens", "files", "tests", "outputBytes"],
  properties: {
    turns: integer,
    tokens: { type: "object", required: ["input", "output"], properties: { input: integer, output: integer } },
    files: {
      type: "object",
      required: ["read", "written", "deleted"],
      properties: { read: integer, written: integer, deleted: integer },
    },
    tests: {
      type: "object",
      required: ["runs", "passed", "failed", "skipped", "last"],
      properties: {
        runs: integer,
        passed: integer,
        failed: integer,
        skipped: integer,
        last: {
          type: ["object", "null"],
          required: ["passed", "failed", "skipped"],
          properties: { passed: integer, failed: integer, skipped: integer },
        },
      },
    },
    outputBytes: integer,
    progress: {
      type: "object",
      description:
        "Turns in a row that changed no file and passed no more tests, and the most tests one test run passed.",
      required: ["idleTurns", "bestPassed"],
      properties: { idleTurns: integer, bestPassed: integer },
    },
  },
} as const;

/** Each turn's input: the template rendered before the turn, and how the command gets it. */
const runInput = {
  type: "object",
  required: ["template", "via", "file"],
  properties: {
    template: string,
    via: { type: "string", enum: ["stdin", "file", "arg"] },
    file: { type: "string", description: 'Where a "file" input is written, relative to cwd.' },
  },
} as const;

/** Limits that fail or pause a run when spent. */
const runBudget = {
  type: "object",
  required: ["onExceeded"],
  properties: {
    maxTokens: integer,
    maxCostUsd: { type: "number" },
    prices: {
      type: "object",
      description: "US dollars per million tokens.",
      required: ["input", "output"],
      properties: { input: { type: "number" }, output: { type: "number" } },
    },
    deadlineMs: integer,
    noProgressTurns: integer,
    onExceeded: { type: "string", enum: ["fail", "pause"] },
  },
} as const;

/** How a turn's command reports telemetry (docs/agent-streams.md); absent in a spec: "overseer". */
const telemetryMode = {
  type: "string",
  enum: [...TELEMETRY_MODES],
  description: 'overseer_event lines ("overseer"), or the JSON Lines of the agent CLI named.',
} as const;

const runCompletion = {
  type: "object",
  required: ["detected", "line", "turn"],
  properties: {
    detected: { type: ["string", "null"], enum: ["stop_file", "pattern", "exit_code", null] },
    line: nullableString,
    turn: nullableInteger,
  },
} as const;

const runError = {
  type: ["object", "null"],
  required: ["code", "message", "retryable"],
  properties: { code: string, message: string, retryable: { type: "boolean" } },
} as const;

/** Who answers the run's questions and approval requests; absent: any operator, 24 h, then deny. */
const runApprovals = {
  type: "object",
  required: ["approvers", "quorum", "timeoutMs", "onTimeout"],
  properties: {
    approvers: {
      type: "array",
      items: string,
      description: "Token names, group:<name>, telegram:<id>; empty: any operator.",
    },
    quorum: integer,
    timeoutMs: integer,
    onTimeout: { type: "string", enum: ["deny", "approve", "escalate"] },
    beforeFirstTurn: { type: "string", description: "The title of the approval asked before the first turn." },
  },
} as const;

/** What completes a run: a stop file appearing, an output line matching, an exit code. */
const completionRule = {
  type: "object",
  properties: { stopFile: string, pattern: string, exitCode: integer },
} as const;

export const runSchema = {
  $id: "Run",
  type: "object",
  required: [
    "id",
    "state",
    "version",
    "currentTurn",
    "stats",
    "completion",
    "createdAt",
    "profile",
    "params",
    "spec",
    "pid",
    "error",
    "workerId",
    "createdBy",
    "startedAt",
    "finishedAt",
    "updatedAt",
  ],
  properties: {
    id: string,
    state: { type: "string", enum: [...RUN_STATES] },
    version: integer,
    currentTurn: integer,
    stats: runStats,
    completion: runCompletion,
    createdAt: isoTime,
    profile: nullableString,
    params: openObject,
    spec: {
      type: "object",
      description: "What each turn runs, fixed when the run was created.",
      required: [
        "command",
        "args",
        "cwd",
        "env",
        "maxTurns",
        "turnTimeoutMs",
        "graceMs",
        "completion",
        "onTurnFailure",
      ],
      properties: {
        command: string,
        args: { type: "array", items: string },
        cwd: string,
        env: { type: "array", items: string },
        maxTurns: integer,
        turnTimeoutMs: integer,
        graceMs: integer,
        completion: completionRule,
        onTurnFailure: string,
        input: runInput,
        budget: runBudget,
        telemetry: telemetryMode,
        watch: { type: "array", items: string, description: "Files of cwd whose changes in a turn Overseer reports." },
        onShutdown: { type: "string", enum: ["interrupt", "drain"] },
        approvals: runApprovals,
      },
    },
    pid: nullableInteger,
    error: runError,
    workerId: nullableString,
    createdBy: nullableString,
    rerunOf: { ...nullableString, description: "The finished run this one was started again from, if any." },
    startedAt: nullableTime,
    finishedAt: nullableTime,
    updatedAt: isoTime,
  },
} as const;

export const runStatusSchema = {
  $id: "RunStatus",
  type: "object",
  required: ["id", "state", "version", "currentTurn", "maxTurns", "stats", "completion"],
  properties: {
    id: string,
    state: { type: "string", enum: [...RUN_STATES] },
    version: integer,
    currentTurn: integer,
    maxTurns: integer,
    pid: nullableInteger,
    stats: runStats,
    completion: runCompletion,
    error: runError,
    updatedAt: isoTime,
  },
} as const;

export const runMessageSchema = {
  $id: "RunMessage",
  type: "object",
  description: "A person's message to a run, given to the first turn that starts after it ({{messages}} of its input).",
  required: ["id", "runId", "body", "sentBy", "createdAt", "turn"],
  properties: {
    id: string,
    runId: string,
    body: string,
    sentBy: nullableString,
    createdAt: isoTime,
    turn: {
      ...nullableInteger,
      description: "The turn whose input carried it; null while it waits for the next turn.",
    },
  },
} as const;

export const runTurnSchema = {
  $id: "RunTurn",
  type: "object",
  required: [
    "runId",
    "turn",
    "outcome",
    "startedAt",
    "exitCode",
    "signal",
    "pid",
    "host",
    "workerId",
    "outputBytes",
    "finishedAt",
  ],
  properties: {
    runId: string,
    turn: integer,
    outcome: {
      type: "string",
      enum: ["running", "exited", "timed_out", "cancelled", "interrupted", "lost", "spawn_failed"],
    },
    startedAt: isoTime,
    exitCode: nullableInteger,
    signal: nullableString,
    pid: nullableInteger,
    host: string,
    workerId: string,
    outputBytes: integer,
    finishedAt: nullableTime,
  },
} as const;

export const runIdParams = idParams("A run id (ULID).");

/** One param a profile takes, as the config declares it (config/run-profiles.ts). */
const runParam = {
  type: "object",
  required: ["type"],
  properties: {
    type: { type: "string", enum: ["string", "number", "integer", "boolean"] },
    description: string,
    required: { type: "boolean", description: "False: the param may be left out." },
    default: { type: ["string", "number", "boolean"] },
    enum: { type: "array", items: { type: ["string", "number"] } },
    pattern: string,
    minLength: integer,
    maxLength: integer,
    minimum: { type: "number" },
    maximum: { type: "number" },
  },
} as const;

/** A run profile of the config, in the order the route writes its fields. */
const runProfile = {
  type: "object",
  required: [
    "name",
    "description",
    "command",
    "args",
    "params",
    "maxTurns",
    "turnTimeoutMs",
    "graceMs",
    "completion",
    "onTurnFailure",
  ],
  properties: {
    name: string,
    description: nullableString,
    command: string,
    args: { type: "array", items: string, description: "May hold {{param}} placeholders." },
    params: { type: "object", additionalProperties: runParam },
    maxTurns: integer,
    turnTimeoutMs: integer,
    graceMs: integer,
    completion: completionRule,
    onTurnFailure: { type: "string", enum: ["fail", "continue"] },
    input: runInput,
    budget: runBudget,
    telemetry: telemetryMode,
    watch: { type: "array", items: string },
    onShutdown: { type: "string", enum: ["interrupt", "drain"] },
  },
} as const;

export const listRunProfiles = {
  tags: ["runs"],
  operationId: "listRunProfiles",
  summary: "The run profiles of the config file: what may be started, with the params each takes",
  response: {
    200: {
      type: "object",
      required: ["profiles", "allowAdHoc"],
      properties: {
        profiles: { type: "array", items: runProfile },
        allowAdHoc: { type: "boolean" },
      },
    },
    ...errorResponses(401, 403),
  },
} as const;

export const startRun = {
  tags: ["runs"],
  operationId: "startRun",
  summary: "Start a run: 202 with the queued run; a supervisor picks it up at once",
  body: {
    type: "object",
    description:
      "{profile, params} for a profile of the config file; or, if the config sets runs.allowAdHoc, {command, args, cwd, " +
      "maxTurns, turnTimeout, grace, completion, env, onTurnFailure, input, budget, approvals, telemetry, watch, onShutdown} as a profile " +
      "would have them. " +
      "A profile's run may lower its budget's limits with budget: {maxTokens, maxCostUsd, deadline, noProgressTurns, onExceeded}.",
    properties: {
      profile: { type: "string", minLength: 1, maxLength: 128 },
      params: { type: "object", additionalProperties: true },
      budget: { type: "object", additionalProperties: true },
      command: { type: "string", minLength: 1, maxLength: 4_096 },
    },
  },
  response: {
    202: { type: "object", required: ["run"], properties: { run: ref("Run") } },
    ...errorResponses(400, 401, 403),
  },
} as const;

/** The run filter's fields, in the query string of a listing and of a count. */
const runFilterProperties = {
  state: { type: "string", description: "Comma-separated states, e.g. running,paused." },
  profile: { type: "string", maxLength: 128, description: "Only runs of this profile." },
  createdAfter: { type: "string", format: "date-time", description: "Created at or after this time (ISO-8601)." },
  createdBefore: { type: "string", format: "date-time", description: "Created before this time." },
} as const;

/** Counting runs stops here: past it a count says "at least this many" (capped). */
export const RUN_COUNT_CAP = 10_000;

export const countRuns = {
  tags: ["runs"],
  operationId: "countRuns",
  summary: `How many runs a filter matches, counted up to ${RUN_COUNT_CAP}`,
  description: `The same filter as the listing. Counting stops at ${RUN_COUNT_CAP} (capped true: at least that many).`,
  querystring: { type: "object", additionalProperties: false, properties: runFilterProperties },
  response: {
    200: {
      type: "object",
      required: ["count", "capped"],
      properties: {
        count: { type: "integer", description: `Runs matched, at most ${RUN_COUNT_CAP}.` },
        capped: { type: "boolean", description: `True when counting stopped at ${RUN_COUNT_CAP}.` },
      },
    },
    ...errorResponses(400, 401, 403),
  },
} as const;

export const listRuns = {
  tags: ["runs"],
  operationId: "listRuns",
  summary: "List runs, newest first, one page at a time",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...runFilterProperties,
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
      cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
    },
  },
  response: {
    200: pageSchema("Run"),
    ...errorResponses(400, 401, 403),
  },
} as const;

export const getRun = {
  tags: ["runs"],
  operationId: "getRun",
  summary: "A run with its turns, and the ids of the runs started again from it",
  params: runIdParams,
  response: {
    200: {
      type: "object",
      required: ["run", "turns", "reruns"],
      properties: {
        run: ref("Run"),
        turns: { type: "array", items: ref("RunTurn") },
        reruns: { type: "array", items: string, description: "Runs started again from this one, oldest first." },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
} as const;

export const getRunStatus = {
  tags: ["runs"],
  operationId: "getRunStatus",
  summary: "A run's state and counters, for polling",
  params: runIdParams,
  response: { 200: ref("RunStatus"), ...errorResponses(400, 401, 403, 404) },
} as const;

export const sendRunMessage = {
  tags: ["runs"],
  operationId: "sendRunMessage",
  summary: "Send a message to a run: the next turn to start gets it in its input, not the turn running now",
  description:
    "409 RUN_FINISHED for a finished run; 409 RUN_TAKES_NO_MESSAGES when the run's input template has no {{messages}}.",
  params: runIdParams,
  body: {
    type: "object",
    required: ["body"],
    additionalProperties: false,
    properties: { body: { type: "string", minLength: 1, maxLength: 8_000 } },
  },
  response: {
    201: { type: "object", required: ["message"], properties: { message: ref("RunMessage") } },
    ...errorResponses(400, 401, 403, 404, 409),
  },
} as const;

export const listRunMessages = {
  tags: ["runs"],
  operationId: "listRunMessages",
  summary: "A run's messages, oldest first, each with the turn that got it",
  params: runIdParams,
  response: {
    200: { type: "object", required: ["items"], properties: { items: { type: "array", items: ref("RunMessage") } } },
    ...errorResponses(401, 403, 404),
  },
} as const;

export const rerunRun = {
  tags: ["runs"],
  operationId: "rerunRun",
  summary: "Start a finished run again: 202 with the new run, linked to it",
  description:
    "Without params the new run executes the same spec (same command and working folder). With params, the " +
    "profile is resolved again with the old params and these over them. 409 RUN_NOT_FINISHED for a run that has not finished.",
  params: runIdParams,
  body: {
    type: "object",
    additionalProperties: false,
    properties: { params: { type: "object", additionalProperties: true } },
  },
  response: {
    202: { type: "object", required: ["run"], properties: { run: ref("Run") } },
    ...errorResponses(400, 401, 403, 404, 409),
  },
} as const;

export const controlRun = {
  tags: ["runs"],
  operationId: "controlRun",
  summary: "Pause (at the end of the turn, or now with immediate), resume or cancel a run",
  description:
    "409 RUN_INVALID_TRANSITION with details.state when the run's state does not allow it. Send the version " +
    "you read in If-Match (or as version) to act only if the run has not changed.",
  params: runIdParams,
  body: {
    type: "object",
    required: ["action"],
    additionalProperties: false,
    properties: {
      action: { type: "string", enum: [...RUN_CONTROL_ACTIONS] },
      immediate: {
        type: "boolean",
        description: "pause only: freeze the turn's processes now (SIGSTOP) instead of pausing when the turn ends.",
      },
      version: { type: "integer", minimum: 0, description: "Refuse with 409 if the run is no longer at this version." },
    },
  },
  response: {
    200: { type: "object", required: ["run"], properties: { run: ref("Run") } },
    ...errorResponses(400, 401, 403, 404, 409, 429),
  },
} as const;

/** 200 and 206 of a turn's output: its bytes as text, streamed. */
function outputResponse<const Headers extends Record<string, { type: string; description: string }>>(
  description: string,
  headers: Headers = {} as Headers,
) {
  return {
    description,
    headers: {
      "accept-ranges": { type: "string", enum: ["bytes"], description: "Byte ranges may be asked for." },
      "x-output-size": { type: "string", pattern: "^[0-9]+$", description: "The bytes stored so far for the turn." },
      ...headers,
    },
    content: { "text/plain": { schema: { type: "string", description: "The turn's output, as it was written." } } },
  } as const;
}

export const getRunOutput = {
  tags: ["runs"],
  operationId: "getRunOutput",
  summary: "A turn's stored output (telemetry lines excluded), whole or by byte range",
  description:
    "text/plain. Send Range: bytes=START-END (END inclusive; bytes=START- for the rest; bytes=-N for the last N) " +
    "for 206 with Content-Range; 416 RANGE_NOT_SATISFIABLE beyond the end. X-Output-Size is the bytes stored so far.",
  params: runIdParams,
  querystring: {
    type: "object",
    required: ["turn"],
    additionalProperties: false,
    properties: { turn: { type: "string", pattern: "^[0-9]{1,9}$", description: "The turn, from 1." } },
  },
  response: {
    200: outputResponse("The whole output stored so far."),
    206: outputResponse("The bytes of the Range asked for.", {
      "content-range": {
        type: "string",
        description: "bytes START-END/SIZE: which bytes these are (END inclusive) of how many.",
      },
    }),
    ...errorResponses(400, 401, 403, 404, 416),
  },
} as const;

export type Run = Served<typeof runSchema>;
export type RunState = Run["state"];
export type RunStatus = Served<typeof runStatusSchema>;
export type RunTurn = Served<typeof runTurnSchema>;
export type RunMessage = Served<typeof runMessageSchema>;
export type RunStats = Run["stats"];
export type RunPage = Served<(typeof listRuns.response)[200]>;
export type RunCount = Served<(typeof countRuns.response)[200]>;
export type RunDetail = Served<(typeof getRun.response)[200]>;
export type RunProfiles = Served<(typeof listRunProfiles.response)[200]>;
export type RunProfile = Served<typeof runProfile>;
export type RunParam = Served<typeof runParam>;
export type StartRunRequest = Accepted<typeof startRun.body>;
export type RunControlRequest = Accepted<typeof controlRun.body>;
