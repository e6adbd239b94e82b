/**
 * /api/v1/approvals: the requests jobs made with `ctx.requestApproval`, pending first, and
 * deciding one as the token's name (the server checks the approvers, groups and quorum).
 */
import { type Page, type PageQuery, type WalkOptions, walkItems, walkPages } from "./paging.js";
import type { Transport, Versioned } from "./transport.js";
import type {
  Approval,
  ApprovalDecision,
  ApprovalDetail,
  ApprovalState,
  BulkDecisionInput,
  BulkDecisionResult,
  DecisionResult,
} from "./types.js";

export interface ApprovalQuery {
  /** States to list; `settled` stands for every state but pending. */
  state?: ReadonlyArray<ApprovalState | "settled">;
  jobId?: string;
  runId?: string;
  kind?: "approval" | "question";
  /** Asked at or after / before these times (ISO-8601). */
  createdAfter?: string;
  createdBefore?: string;
}

const path = (id: string, rest = "") => `/api/v1/approvals/${encodeURIComponent(id)}${rest}`;

export class ApprovalsApi {
  constructor(private readonly t: Transport) {}

  /** One page: pending requests first (oldest first), then settled ones (newest first); `total` counts every page. */
  async list(query: ApprovalQuery & PageQuery = {}, signal?: AbortSignal): Promise<Page<Approval> & { total: number }> {
    const url = "/api/v1/approvals";
    return (await this.t.json<Page<Approval> & { total: number }>("GET", url, { query: { ...query }, signal })).body;
  }

  pages(query: ApprovalQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Page<Approval>> {
    return walkPages((page) => this.list({ ...query, ...page }), walk);
  }

  all(query: ApprovalQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Approval> {
    return walkItems((page) => this.list({ ...query, ...page }), walk);
  }

  async get(id: string, signal?: AbortSignal): Promise<ApprovalDetail> {
    return (await this.t.json<ApprovalDetail>("GET", path(id), { signal })).body;
  }

  /** The request after the decision, and whether the decision settled it (a quorum may need more). */
  async decide(id: string, decision: ApprovalDecision, options: Versioned = {}): Promise<DecisionResult> {
    const url = path(id, "/decision");
    return (await this.t.json<DecisionResult>("POST", url, { body: decision, ...options })).body;
  }

  /** One decision (and reason) on every pending request the filter matches, oldest first, up to `limit`. */
  async decideMany(input: BulkDecisionInput): Promise<BulkDecisionResult> {
    return (await this.t.json<BulkDecisionResult>("POST", "/api/v1/approvals/decide", { body: input })).body;
  }
}
