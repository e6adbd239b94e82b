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
import { isOverseerError, OverseerError } from "../../core/errors.js";
import type { Overseer } from "../../sdk/overseer.js";
import type { ApprovalFilter } from "../../store/store.js";
import { BusyGuard } from "../busy.js";
import * as contract from "../contract/approvals.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { parseTime } from "../job-filter.js";
import { typed } from "../type-provider.js";
import { etag, expectedVersion } from "../versions.js";

export function approvalRoutes(overseer: Overseer, busy: BusyGuard = new BusyGuard()) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/approvals", { config: { scope: "viewer" }, schema: contract.listApprovals }, async (request) => {
      const query = request.query;
      const limit = pageLimit(query.limit);
      const filter: ApprovalFilter = {
        ...approvalFilter(query),
        ...(query.state === undefined ? {} : { states: parseApprovalStates(query.state) }),
      };
      const [approvals, total] = await Promise.all([
        overseer.listApprovals({
          ...filter,
          afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
          limit: limit + 1,
        }),
        overseer.countApprovals(filter),
      ]);
      return { ...pageOf(approvals, limit), total };
    });

    app.post(
      "/approvals/decide",
      { config: { scope: "operator" }, schema: contract.decideApprovals },
      async (request) => {
        const body = request.body;
        const token = request.token;
        if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
        const decider = overseer.deciderFor(token.name, scopeAllows(token.scope, "operator"));
        const reason = body.reason?.trim() ? body.reason.trim() : null;
        // A question needs its own answer: one reason for many is a decision, so only approvals.
        if (body.kind === "question") {
          throw new OverseerError(
            "INVALID_ARGUMENT",
            "questions are answered one at a time; bulk decisions take approvals only",
            {
              field: "kind",
            },
          );
        }
        const pending = await overseer.listApprovals({
          ...approvalFilter(body),
          kind: "approval",
          states: ["pending"],
          limit: body.limit ?? 100,
        });
        let changed = 0;
        let settled = 0;
        const skipped: Array<{ id: string; code: string }> = [];
        for (const request of pending) {
          const asker = request.runId === null ? (`job:${request.jobId}` as const) : (`run:${request.runId}` as const);
          try {
            const approval = await busy.run([`approval:${request.id}`, asker], () =>
              overseer.decideApproval(
                request.id,
                { decision: body.decision, reason, channel: body.channel ?? "api" },
                decider,
                { expectedVersion: request.version },
              ),
            );
            changed++;
            if (approval.state !== "pending") settled++;
          } catch (err) {
            if (!isOverseerError(err) || !SKIPPABLE.includes(err.code)) throw err;
            skipped.push({ id: request.id, code: err.code });
          }
        }
        return { matched: pending.length, changed, settled, skipped };
      },
    );

    app.get("/approvals/:id", { config: { scope: "viewer" }, schema: contract.getApproval }, async (request, reply) => {
      const detail = await overseer.getApprovalDetail(request.params.id);
      reply.header("etag", etag(detail.approval.version));
      return detail;
    });

    app.post(
      "/approvals/:id/decision",
      { config: { scope: "operator" }, schema: contract.decideApproval },
      async (request, reply) => {
        const { id } = request.params;
        const body = request.body;
        const version = expectedVersion(request);
        const token = request.token;
        if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
        const decider = overseer.deciderFor(token.name, scopeAllows(token.scope, "operator"));
        const reason = body.reason?.trim() ? body.reason.trim() : null;
        // Its job (or run) too: a cancel of it and a decision that resumes it are one or the other.
        const { jobId, runId } = await requireApproval(overseer, id);
        const asker = runId === null ? (`job:${jobId}` as const) : (`run:${runId}` as const);
        const approval = await busy.run([`approval:${id}`, asker], () =>
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

/** What a bulk decision skips: a request this token may not decide, or one that moved on since it was listed. */
const SKIPPABLE: readonly string[] = [
  "APPROVAL_FORBIDDEN",
  "APPROVAL_SETTLED",
  "APPROVAL_ALREADY_DECIDED",
  "APPROVAL_NOT_FOUND",
  "VERSION_CONFLICT",
  "BUSY",
];

/** A listing's or a bulk decision's filter (but the states), as the store takes it. */
function approvalFilter(input: {
  kind?: "approval" | "question";
  jobId?: string;
  runId?: string;
  createdAfter?: string;
  createdBefore?: string;
}): ApprovalFilter {
  const filter: ApprovalFilter = {};
  if (input.kind !== undefined) filter.kind = input.kind;
  if (input.jobId !== undefined) filter.jobId = input.jobId;
  if (input.runId !== undefined) filter.runId = input.runId;
  if (input.createdAfter !== undefined) filter.createdAfter = parseTime(input.createdAfter, "createdAfter");
  if (input.createdBefore !== undefined) filter.createdBefore = parseTime(input.createdBefore, "createdBefore");
  return filter;
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
