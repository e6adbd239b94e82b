/**
 * /api/v1/approvals: the requests jobs made with `ctx.requestApproval`, pending first, and the
 * decision route people use. Reading needs the viewer scope; deciding, the operator scope at
 * least, and then the store decides whether this token may decide this request (approvers,
 * groups, no self-approval, quorum; see core/approval.ts). Decisions honour `If-Match` /
 * `version` like job writes, and hold the request and its job in the busy guard (busy.ts).
 */
import type { FastifyInstance } from "fastify";
import { scopeAllows } from "../../auth/scopes.js";
import { APPROVAL_STATES, type ApprovalState } from "../../core/approval.js";
import { OverseerError } from "../../core/errors.js";
import type { Overseer } from "../../sdk/overseer.js";
import { BusyGuard } from "../busy.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { errorResponses, pageSchema, ref } from "../schemas.js";
import { etag, expectedVersion } from "../versions.js";

const idParams = {
  type: "object",
  required: ["id"],
  additionalProperties: false,
  properties: { id: { type: "string", minLength: 1, maxLength: 64, description: "An approval id (ULID)." } },
} as const;

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    state: {
      type: "string",
      maxLength: 200,
      description: `Comma-separated states (${APPROVAL_STATES.join(", ")}), or settled for every state but pending.`,
    },
    jobId: { type: "string", minLength: 1, maxLength: 64, description: "Only the requests of this job." },
    limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
    cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
  },
} as const;

/** Channels a person decides through over HTTP; telegram and watchdog are the server's own. */
const HTTP_CHANNELS = ["api", "dashboard", "cli"] as const;

const decisionBody = {
  type: "object",
  required: ["decision"],
  additionalProperties: false,
  properties: {
    decision: { type: "string", enum: ["approve", "deny"] },
    reason: { type: "string", maxLength: 2_000, description: "Why, for the audit trail and the job." },
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
} as const;

const jobSummary = {
  type: ["object", "null"],
  description: "The job that asked; null if it was discarded since.",
  required: ["id", "state", "task"],
  properties: { id: { type: "string" }, state: { type: "string" }, task: { type: "string" } },
} as const;

export function approvalRoutes(overseer: Overseer, busy: BusyGuard = new BusyGuard()) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/approvals",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["approvals"],
          operationId: "listApprovals",
          summary: "List approval requests: pending first (oldest first), then settled ones (newest first)",
          querystring: listQuery,
          response: {
            200: pageSchema("Approval"),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const query = request.query as { state?: string; jobId?: string; limit?: string; cursor?: string };
        const limit = pageLimit(query.limit);
        const approvals = await overseer.listApprovals({
          states: query.state === undefined ? undefined : parseApprovalStates(query.state),
          jobId: query.jobId,
          afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
          limit: limit + 1,
        });
        return pageOf(approvals, limit);
      },
    );

    app.get(
      "/approvals/:id",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["approvals"],
          operationId: "getApproval",
          summary: "An approval request with its decisions, and its job's id, state and task",
          params: idParams,
          response: {
            200: {
              type: "object",
              required: ["approval", "job"],
              properties: { approval: ref("Approval"), job: jobSummary },
            },
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const approval = await requireApproval(overseer, (request.params as { id: string }).id);
        const job = await overseer.getJob(approval.jobId);
        reply.header("etag", etag(approval.version));
        return { approval, job: job && { id: job.id, state: job.state, task: job.task } };
      },
    );

    app.post(
      "/approvals/:id/decision",
      {
        config: { scope: "operator" },
        schema: {
          tags: ["approvals"],
          operationId: "decideApproval",
          summary: "Approve or deny a pending request as the token's name (and its groups)",
          description:
            "403 APPROVAL_FORBIDDEN when this token is not among the approvers or asked for it; 409 APPROVAL_SETTLED " +
            "(details.state) when it was settled already, APPROVAL_ALREADY_DECIDED when this token approved already, " +
            "VERSION_CONFLICT on a stale If-Match / version; 429 BUSY with Retry-After while another action on the " +
            "request or its job is being applied.",
          params: idParams,
          body: decisionBody,
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
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const body = request.body as {
          decision: "approve" | "deny";
          reason?: string;
          channel?: (typeof HTTP_CHANNELS)[number];
        };
        const version = expectedVersion(request);
        const token = request.token;
        if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
        const decider = overseer.deciderFor(token.name, scopeAllows(token.scope, "operator"));
        const reason = body.reason?.trim() ? body.reason.trim() : null;
        // Its job too: a cancel of the job and a decision that resumes it are one or the other.
        const { jobId } = await requireApproval(overseer, id);
        const approval = await busy.run([`approval:${id}`, `job:${jobId}`], () =>
          overseer.decideApproval(id, { decision: body.decision, reason, channel: body.channel ?? "api" }, decider, {
            expectedVersion: version,
          }),
        );
        reply.header("etag", etag(approval.version));
        return { approval, settled: approval.state !== "pending" };
      },
    );
  };
}

async function requireApproval(overseer: Overseer, id: string) {
  const approval = await overseer.getApproval(id);
  if (!approval) throw new OverseerError("APPROVAL_NOT_FOUND", `no approval request with id "${id}"`, { id });
  return approval;
}

/** `pending`, `approved,denied`, or `settled` (every state but pending). */
function parseApprovalStates(text: string): ApprovalState[] {
  const states = new Set<ApprovalState>();
  for (const raw of text.split(",")) {
    const s = raw.trim();
    if (s === "") continue;
    if (s === "settled") {
      for (const x of APPROVAL_STATES) if (x !== "pending") states.add(x);
    } else if ((APPROVAL_STATES as readonly string[]).includes(s)) states.add(s as ApprovalState);
    else {
      throw new OverseerError(
        "INVALID_STATE_FILTER",
        `unknown approval state "${s}"; the states are ${APPROVAL_STATES.join(", ")} (or settled)`,
        { field: "state" },
      );
    }
  }
  return [...states];
}
