/**
 * The MCP tools through a server's HTTP API (the stdio server with `--url`): the server decides
 * who acts from the token, and refuses what its scope does not allow with the error it gives
 * any client.
 */
import type { EnqueueOptions, OverseerClient, SimilarLessonsQuery } from "../client/index.js";
import type { ClaimHolder } from "../core/claim.js";
import { type McpBackend, pause } from "./backend.js";

export class RemoteMcpBackend implements McpBackend {
  constructor(private readonly api: OverseerClient) {}

  async enqueue(task: string, payload: unknown, options: EnqueueOptions) {
    const { job, created } = await this.api.jobs.enqueue(task, payload, options);
    const { warnings = [], ...record } = job;
    return { job: record, created, warnings };
  }

  async getJob(id: string) {
    return (await this.api.jobs.get(id)).job;
  }

  async jobApprovals(jobId: string) {
    return (await this.api.approvals.list({ jobId, limit: 100 })).items;
  }

  runStatus(id: string) {
    return this.api.runs.status(id);
  }

  async decideApproval(id: string, decision: "approve" | "deny", reason: string | null) {
    const asked = { decision, channel: "api" as const, ...(reason === null ? {} : { reason }) };
    return (await this.api.approvals.decide(id, asked)).approval;
  }

  takeClaim(key: string, owner: string, ttl: string | number, holder: ClaimHolder) {
    return this.api.claims.take(key, owner, ttl, holder);
  }

  refreshClaim(key: string, owner: string, ttl: string | number) {
    return this.api.claims.refresh(key, owner, ttl);
  }

  releaseClaim(key: string, owner: string) {
    return this.api.claims.release(key, owner);
  }

  listClaims() {
    return this.api.claims.list();
  }

  recordLesson(lesson: Parameters<McpBackend["recordLesson"]>[0]) {
    return this.api.lessons.record(lesson);
  }

  similarLessons(query: SimilarLessonsQuery) {
    return this.api.lessons.similar(query);
  }

  nextChange(ms: number, signal: AbortSignal) {
    // A poll: a wait asks again after `ms`, which the wait keeps at a second or so.
    return pause(ms, signal);
  }

  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
