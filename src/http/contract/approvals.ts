/**
 * /api/v1/approvals: the approval request a job made with `ctx.requestApproval` (or a run made
 * with a `question` or `approval_request` telemetry line), with every
 * decision on it, and the schemas of listing, reading and deciding one. Who may decide is the
 * store's rule (core/approval.ts), not the contract's.
 */
import { EXECUTION_MODES } from "../../core/execution.js";
import { RISKS } from "../../core/gate-policy.js";
import { APPROVAL_STATES } from "../../core/states.js";
import {
  type Accepted,
  errorResponses,
  idParams,
  isoTime,
  nullableString,
  nullableTime,
  pageSchema,
  ref,
  type Served,
  string,
} from "./schema.js";

const decisionChannel = { type: "string", enum: ["api", "cli", "dashboard", "telegram", "watchdog"] } as const;

export const approvalSchema = {
  $id: "Approval",
  type: "object",
  required: [
    "id",
    "jobId",
    "runId",
    "kind",
    "step",
    "title",
    "risk",
    "approvers",
    "quorum",
    "requestedBy",
    "onTimeout",
    "execution",
    "test",
    "state",
    "decisions",
    "outcome",
    "createdAt",
    "expiresAt",
    "settledAt",
    "version",
  ],
  properties: {
    id: string,
    jobId: { ...nullableString, description: "The job that asked; null when a run asked." },
    runId: { ...nullableString, description: "The run that asked; null when a job asked." },
    kind: {
      type: "string",
      enum: ["approval", "question"],
      description: "A yes or no, or a question: a question is answered by approving it with the answer as the reason.",
    },
    step: {
      type: "string",
      description:
        "The job's step that holds the outcome; for a run, the turn that asked (turn-3) or before-first-turn.",
    },
    title: string,
    details: { description: "What the handler gave to show the approvers: any JSON." },
    risk: { type: "string", enum: [...RISKS] },
    approvers: {
      type: "array",
      items: string,
      description: "Who may decide: token names, group:<name>, telegram:<id>; empty: any operator.",
    },
    quorum: { type: "integer", description: "Distinct approvals needed to approve; one denial denies." },
    requestedBy: { ...nullableString, description: "Who asked; they may not decide." },
    onTimeout: { type: "string", enum: ["deny", "approve", "escalate"] },
    execution: {
      type: ["string", "null"],
      enum: [...EXECUTION_MODES, null],
      description:
        "The asking job's execution mode when it asked: dry-run means an approval runs nothing. Null for a run's requests, which the switch does not govern.",
    },
    test: { type: "boolean", description: "A test item: its approval never lets a real action run." },
    state: { type: "string", enum: [...APPROVAL_STATES] },
    decisions: {
      type: "array",
      description: "Every decision, oldest first: who, through which channel, when and why.",
      items: {
        type: "object",
        required: ["decision", "by", "channel", "reason", "at"],
        properties: {
          decision: { type: "string", enum: ["approve", "deny"] },
          by: string,
          channel: decisionChannel,
          reason: nullableString,
          at: isoTime,
        },
      },
    },
    outcome: {
      type: ["object", "null"],
      description:
        "What the job's ctx.requestApproval returns (a run's next turn gets it as {{answer}}); null while pending.",
      required: ["approved", "decidedBy", "channel", "reason", "at", "timedOut"],
      properties: {
        approved: { type: "boolean" },
        decidedBy: string,
        channel: decisionChannel,
        reason: nullableString,
        at: isoTime,
        timedOut: { type: "boolean" },
        execution: {
          type: "string",
          enum: [...EXECUTION_MODES],
          description: "What the approved action may do: enabled only if asked in enabled mode and not a test item.",
        },
      },
    },
    createdAt: isoTime,
    expiresAt: { ...isoTime, description: "When the watchdog applies onTimeout if nobody settled it." },
    settledAt: nullableTime,
    version: { type: "integer", description: "Bumped on every decision; send it back in If-Match to decide safely." },
  },
} as const;

const approvalIdParams = idParams("An approval id (ULID).");

const time = (description: string) => ({ type: "string", format: "date-time", description }) as const;

/** The filter of a listing (query string) and of a bulk decision (body), but for the states. */
const approvalFilterProperties = {
  kind: { type: "string", enum: ["approval", "question"], description: "Only yes-or-no requests, or only questions." },
  jobId: { type: "string", minLength: 1, maxLength: 64, description: "Only the requests of this job." },
  runId: { type: "string", minLength: 1, maxLength: 64, description: "Only the requests of this run." },
  createdAfter: time("Asked at or after this time (ISO-8601)."),
  createdBefore: time("Asked before this time."),
} as const;

export const listApprovals = {
  tags: ["approvals"],
  operationId: "listApprovals",
  summary: "List approval requests: pending first (oldest first), then settled ones (newest first)",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      state: {
        type: "string",
        maxLength: 200,
        description: `Comma-separated states (${APPROVAL_STATES.join(", ")}), or settled for every state but pending.`,
      },
      ...approvalFilterProperties,
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
      cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
    },
  },
  response: {
    200: {
      ...pageSchema("Approval"),
      required: ["items", "nextCursor", "total"],
      properties: {
        ...pageSchema("Approval").properties,
        total: { type: "integer", description: "How many requests the filter matches, over every page." },
      },
    },
    ...errorResponses(400, 401, 403),
  },
} as const;

export const getApproval = {
  tags: ["approvals"],
  operationId: "getApproval",
  summary: "An approval request with its decisions, and its job's id, state and task (or its run's)",
  params: approvalIdParams,
  response: {
    200: {
      type: "object",
      required: ["approval", "job", "run"],
      properties: {
        approval: ref("Approval"),
        job: {
          type: ["object", "null"],
          description: "The job that asked; null if a run asked, or the job was discarded since.",
          required: ["id", "state", "task"],
          properties: { id: { type: "string" }, state: { type: "string" }, task: { type: "string" } },
        },
        run: {
          type: ["object", "null"],
          description: "The run that asked; null if a job asked, or the run was deleted since.",
          required: ["id", "state", "profile"],
          properties: { id: { type: "string" }, state: { type: "string" }, profile: nullableString },
        },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
} as const;

/** Channels a person decides through over HTTP; telegram and watchdog are the server's own. */
const HTTP_CHANNELS = ["api", "dashboard", "cli"] as const;

export const decideApproval = {
  tags: ["approvals"],
  operationId: "decideApproval",
  summary: "Approve or deny a pending request as the token's name (and its groups)",
  description:
    "403 APPROVAL_FORBIDDEN when this token is not among the approvers or asked for it; 409 APPROVAL_SETTLED " +
    "(details.state) when it was settled already, APPROVAL_ALREADY_DECIDED when this token approved already, " +
    "VERSION_CONFLICT on a stale If-Match / version; 429 BUSY with Retry-After while another action on the " +
    "request or its job (or run) is being applied. A question is answered by approving it with the answer as " +
    "the reason, or dismissed by denying it.",
  params: approvalIdParams,
  body: {
    type: "object",
    required: ["decision"],
    additionalProperties: false,
    properties: {
      decision: { type: "string", enum: ["approve", "deny"] },
      reason: {
        type: "string",
        maxLength: 2_000,
        description: "Why, for the audit trail and the job; for a question, the answer the run's next turn gets.",
      },
      channel: {
        type: "string",
        enum: [...HTTP_CHANNELS],
        description: "Where the decision was made: api (the default), dashboard or cli.",
      },
      version: {
        type: "integer",
        minimum: 0,
        description: "Refuse with 409 if the request is no longer at this version.",
      },
    },
  },
  response: {
    200: {
      type: "object",
      required: ["approval", "settled"],
      properties: {
        approval: ref("Approval"),
        settled: { type: "boolean", description: "Whether this decision settled the request." },
      },
    },
    ...errorResponses(400, 401, 403, 404, 409, 429),
  },
} as const;

/** Requests a bulk decision decides at most. */
export const BULK_APPROVALS_MAX = 500;

export const decideApprovals = {
  tags: ["approvals"],
  operationId: "decideApprovals",
  summary: "Approve or deny the pending requests a filter matches, up to limit, with one reason",
  description:
    "Oldest first; each request is decided in its own transaction as the token's name, as POST " +
    "/approvals/{id}/decision would. Requests this token may not decide or that changed meanwhile are skipped " +
    "with their code (APPROVAL_FORBIDDEN, APPROVAL_SETTLED, APPROVAL_ALREADY_DECIDED, VERSION_CONFLICT, BUSY).",
  body: {
    type: "object",
    required: ["decision"],
    additionalProperties: false,
    properties: {
      ...approvalFilterProperties,
      decision: { type: "string", enum: ["approve", "deny"] },
      reason: { type: "string", maxLength: 2_000, description: "Why: kept on every decision." },
      channel: { type: "string", enum: [...HTTP_CHANNELS], description: "Where the decisions were made; default api." },
      limit: {
        type: "integer",
        minimum: 1,
        maximum: BULK_APPROVALS_MAX,
        default: 100,
        description: `At most this many requests (oldest first), up to ${BULK_APPROVALS_MAX}.`,
      },
    },
  },
  response: {
    200: {
      type: "object",
      required: ["matched", "changed", "settled", "skipped"],
      properties: {
        matched: { type: "integer", description: "Pending requests the filter matched (at most limit)." },
        changed: { type: "integer", description: "Requests this decision was recorded on." },
        settled: { type: "integer", description: "Of those, how many it settled (a quorum may need more)." },
        skipped: {
          type: "array",
          items: { type: "object", required: ["id", "code"], properties: { id: string, code: string } },
        },
      },
    },
    ...errorResponses(400, 401, 403),
  },
} as const;

export type Approval = Served<typeof approvalSchema>;
export type ApprovalState = Approval["state"];
export type ApprovalDecision = Approval["decisions"][number];
export type ApprovalPage = Served<(typeof listApprovals.response)[200]>;
export type ApprovalDetail = Served<(typeof getApproval.response)[200]>;
export type DecisionRequest = Accepted<typeof decideApproval.body>;
export type DecisionResult = Served<(typeof decideApproval.response)[200]>;
export type BulkDecisionRequest = Accepted<typeof decideApprovals.body>;
export type BulkDecisionResult = Served<(typeof decideApprovals.response)[200]>;
