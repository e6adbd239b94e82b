/**
 * The MCP tools over the SDK's Overseer: the stdio server on a database, and the HTTP endpoint
 * inside the server. Whoever acts is named once, here: a job they enqueue records them as its
 * requester (so they cannot approve what they asked for), a lesson as its author, and a
 * decision is theirs, with the rights the store gives their name and scope.
 */
import type { EnqueueOptions, SimilarLessonsQuery } from "../client/index.js";
import type { DecisionChannel } from "../core/approval.js";
import type { ClaimHolder } from "../core/claim.js";
import { jobNotFound, runNotFound } from "../core/errors.js";
import { runStatus } from "../core/run.js";
import type { Overseer } from "../sdk/overseer.js";
import { type McpBackend, pause } from "./backend.js";

export interface Actor {
  /** A token's name, or the local user's. */
  name: string;
  /** Whether they may operate at all (an operator or admin token; the local user). */
  mayOperate: boolean;
  /** Where their decisions are recorded as coming from. */
  channel: DecisionChannel;
}

export class LocalMcpBackend implements McpBackend {
  constructor(
    private readonly o: Overseer,
    private readonly actor: Actor,
    /** Whether `close` closes the Overseer too (the stdio server's own), or leaves it to its owner (the HTTP server's). */
    private readonly owned: boolean,
  ) {}

  async enqueue(task: string, payload: unknown, options: EnqueueOptions) {
    const { job, created, warnings } = await this.o.enqueueWithResult(task, payload, {
      ...options,
      enqueuedBy: this.actor.name,
    });
    return { job, created, warnings };
  }

  async getJob(id: string) {
    const job = await this.o.getJob(id);
    if (!job) throw jobNotFound(id);
    return job;
  }

  jobApprovals(jobId: string) {
    return this.o.listApprovals({ jobId });
  }

  async runStatus(id: string) {
    const run = await this.o.getRun(id);
    if (!run) throw runNotFound(id);
    return runStatus(run);
  }

  decideApproval(id: string, decision: "approve" | "deny", reason: string | null) {
    const decider = this.o.deciderFor(this.actor.name, this.actor.mayOperate);
    return this.o.decideApproval(id, { decision, reason, channel: this.actor.channel }, decider);
  }

  takeClaim(key: string, owner: string, ttl: string | number, holder: ClaimHolder) {
    return this.o.takeClaim(key, owner, ttl, holder);
  }

  refreshClaim(key: string, owner: string, ttl: string | number) {
    return this.o.refreshClaim(key, owner, ttl);
  }

  releaseClaim(key: string, owner: string) {
    return this.o.releaseClaim(key, owner);
  }

  listClaims() {
    return this.o.listClaims();
  }

  recordLesson(lesson: Parameters<McpBackend["recordLesson"]>[0]) {
    return this.o.lessons.record({ ...lesson, createdBy: this.actor.name });
  }

  similarLessons(query: SimilarLessonsQuery) {
    // As the API does: a tag no lesson has is refused, naming the tags in use like it.
    return this.o.lessons.similar({ ...query, unknownTags: "refuse" });
  }

  nextChange(ms: number, signal: AbortSignal) {
    return pause(ms, signal, (wake) => this.o.onChange(wake));
  }

  async close() {
    if (this.owned) await this.o.close();
  }
}
