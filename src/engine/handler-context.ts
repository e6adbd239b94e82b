/**
 * The `ctx` a handler gets: one small object per execution. A worker keeps one alive for each job
 * it runs until the outcome is recorded, which outlasts V8's young collections, so whatever an
 * execution allocates up front is promoted and collected late: in a drain of no-op jobs, a
 * context of closures and an eager AbortSignal kept the worker's heap three times the size of
 * what it needed. So the methods live on the prototype, the durable part (steps, sleeps, waits,
 * approvals) is made on the first call of one of its methods, and the signal on its first read
 * (see ExecutionAbort).
 *
 * Handlers may take methods off the context (`async (payload, { step, log }) => ...`): each
 * method is a getter that returns it bound (the same function each time). Its own enumerable
 * properties are `job` and `attempt` only: `{ ...ctx }` copies no method, and JSON.stringify
 * writes those two. Its methods cannot be reassigned.
 */
import { createHash } from "node:crypto";
import type { ExecutionMode } from "../core/execution.js";
import type { GatePolicy } from "../core/gate-policy.js";
import { serializePayload } from "../core/job-options.js";
import type { Logger } from "../core/logger.js";
import type { JobContext } from "../core/task.js";
import type { Job, Lease } from "../core/types.js";
import type { Store } from "../store/store.js";
import { type DurableContext, type DurableStore, durableContext } from "./durable-context.js";
import type { ExecutionAbort } from "./execution-abort.js";
import type { ExecutionReader } from "./execution-reader.js";
import type { Lessons } from "./lessons.js";

/** What every context of one worker shares. */
export interface HandlerServices {
  readonly store: DurableStore & Pick<Store, "recordProgress">;
  readonly logger: Logger;
  readonly workerId: string;
  readonly gates: GatePolicy;
  /** An approval request's timeout when the handler gives none. */
  readonly approvalTimeoutMs: number;
  /** The groups a request's `group:` approvers may name; null: not checked. */
  readonly approvalGroups: readonly string[] | null;
  readonly lessons: Lessons;
  /** The node's execution switch (a task's own mode wins over it). */
  readonly execution: ExecutionReader;
}

/** The execution a context belongs to, as the worker keeps it. */
export interface Execution {
  /** The current lease (a heartbeat replaces it with a later expiry). */
  readonly lease: Lease;
  readonly abort: ExecutionAbort;
  /** Set when the handler parks the job (a sleep, a wait, an approval): the park is its outcome. */
  parked: boolean;
}

export class HandlerContext implements JobContext {
  readonly attempt: number;
  readonly #mode: ExecutionMode;
  readonly #execution: Execution;
  readonly #services: HandlerServices;
  #pending: Promise<void>[] | null = null;
  #durable: DurableContext | null = null;
  // Each method, bound on its first read and the same function after.
  #log: JobContext["log"] | null = null;
  #progress: JobContext["progress"] | null = null;
  #step: JobContext["step"] | null = null;
  #sleep: JobContext["sleep"] | null = null;
  #sleepUntil: JobContext["sleepUntil"] | null = null;
  #waitForEvent: JobContext["waitForEvent"] | null = null;
  #requestApproval: JobContext["requestApproval"] | null = null;
  #gate: JobContext["gate"] | null = null;
  #recordLesson: JobContext["recordLesson"] | null = null;
  #similarLessons: JobContext["similarLessons"] | null = null;

  constructor(
    readonly job: Job,
    execution: Execution,
    services: HandlerServices,
    mode: ExecutionMode,
  ) {
    this.attempt = job.attempts;
    this.#mode = mode;
    this.#execution = execution;
    this.#services = services;
  }

  get execution(): ExecutionMode {
    return this.#mode;
  }

  get signal(): AbortSignal {
    return this.#execution.abort.signal;
  }

  get log(): JobContext["log"] {
    this.#log ??= (message, data) =>
      this.#track("log", () =>
        this.#services.store.appendEvents([
          {
            kind: "job.log",
            jobId: this.job.id,
            workerId: this.#services.workerId,
            data: { message, ...(data ?? {}) },
          },
        ]),
      );
    return this.#log;
  }

  get progress(): JobContext["progress"] {
    this.#progress ??= (value) =>
      this.#track("progress", () =>
        this.#services.store.recordProgress(this.#execution.lease, serializePayload(value)),
      );
    return this.#progress;
  }

  get step(): JobContext["step"] {
    this.#step ??= (name, fn) => this.#durableContext().step(name, fn);
    return this.#step;
  }

  get sleep(): JobContext["sleep"] {
    this.#sleep ??= (duration) => this.#durableContext().sleep(duration);
    return this.#sleep;
  }

  get sleepUntil(): JobContext["sleepUntil"] {
    this.#sleepUntil ??= (at) => this.#durableContext().sleepUntil(at);
    return this.#sleepUntil;
  }

  get waitForEvent(): JobContext["waitForEvent"] {
    this.#waitForEvent ??= (name, options) => this.#durableContext().waitForEvent(name, options);
    return this.#waitForEvent;
  }

  get requestApproval(): JobContext["requestApproval"] {
    this.#requestApproval ??= (request) => this.#durableContext().requestApproval(request);
    return this.#requestApproval;
  }

  get gate(): JobContext["gate"] {
    this.#gate ??= (action, options) => this.#durableContext().gate(action, options);
    return this.#gate;
  }

  get recordLesson(): JobContext["recordLesson"] {
    this.#recordLesson ??= (lesson) => {
      // Keyed by the job and the title, not by the call's position: a call inside a ctx.step
      // does not run again on a replay, so positions would shift and a lesson be lost.
      const title = typeof lesson?.title === "string" ? lesson.title.trim() : "";
      const key = `job:${this.job.id}:lesson:${createHash("sha256").update(title).digest("hex").slice(0, 32)}`;
      return this.#services.lessons
        .record({ createdBy: this.job.task, ...lesson, jobId: this.job.id, key })
        .then((r) => r.lesson);
    };
    return this.#recordLesson;
  }

  get similarLessons(): JobContext["similarLessons"] {
    this.#similarLessons ??= (query) =>
      this.#services.lessons.similar(
        typeof query === "string" ? { jobId: this.job.id } : { ...query, excludeJobId: this.job.id },
      );
    return this.#similarLessons;
  }

  /** For the worker: settles once every log and progress write the handler started has settled. */
  async settled(): Promise<void> {
    if (this.#pending !== null) await Promise.allSettled(this.#pending);
  }

  /**
   * The write starts synchronously (so calls are recorded in call order), but a failure, even a
   * value that cannot be serialised, always arrives as a rejection, never as a throw at the call.
   * Handlers often fire and forget these, so a failure is also logged here: left unhandled, a
   * rejected promise would take the whole worker process down.
   */
  #track(what: string, write: () => Promise<unknown>): Promise<void> {
    const p = new Promise<unknown>((resolve) => resolve(write())).then(() => undefined);
    p.catch((err: unknown) =>
      this.#services.logger.warn({ err, jobId: this.job.id, workerId: this.#services.workerId }, `ctx.${what} failed`),
    );
    this.#pending ??= [];
    this.#pending.push(p);
    return p;
  }

  #durableContext(): DurableContext {
    const execution = this.#execution;
    const services = this.#services;
    this.#durable ??= durableContext(
      services.store,
      this.job.id,
      () => execution.lease,
      () => {
        execution.parked = true;
        execution.abort.abort("parked");
      },
      {
        task: this.job.task,
        gates: services.gates,
        approvalTimeoutMs: services.approvalTimeoutMs,
        approvalGroups: services.approvalGroups,
        enqueuedBy: this.job.enqueuedBy,
        attempt: this.job.attempts,
        execution: this.#mode,
      },
    );
    return this.#durable;
  }
}
