/**
 * The durable part of a handler's context: `ctx.step`, `ctx.sleep`, `ctx.sleepUntil` and
 * `ctx.waitForEvent` (see core/durable.ts). One per execution. The job's stored steps are read
 * on the first call only, so handlers that use none of this pay nothing.
 *
 * Sleeps and waits are named by call order within the execution (`sleep#1`, `sleep#2`,
 * `wait:<event>#1`), which is stable as long as the handler makes the same calls in the same
 * order each time it runs: the rule every durable-execution system asks of its handlers.
 */

import { type ApprovalOutcome, type ApprovalRequest, buildNewApproval } from "../core/approval.js";
import { JobParked, type StepRecord } from "../core/durable.js";
import { type Duration, parseDuration } from "../core/duration.js";
import { OverseerError } from "../core/errors.js";
import { approvedExecution, type ExecutionMode } from "../core/execution.js";
import { checkGateRequest, type GatePolicy, shouldGate } from "../core/gate-policy.js";
import { newId } from "../core/ids.js";
import { serializePayload } from "../core/job-options.js";
import { toJobError } from "../core/retry-policy.js";
import type { GateOptions, GateResult, JobContext } from "../core/task.js";
import type { Lease } from "../core/types.js";
import type { Store } from "../store/store.js";

/** The durable methods of a handler's context. */
export type DurableContext = Pick<
  JobContext,
  "step" | "sleep" | "sleepUntil" | "waitForEvent" | "requestApproval" | "gate"
>;

export type DurableStore = Pick<
  Store,
  "listJobSteps" | "recordStep" | "sleepJob" | "waitForSignal" | "requestApproval" | "appendEvents"
>;

export interface DurableSettings {
  /** The job's task, for the gate policy. */
  task: string;
  gates: GatePolicy;
  /** A request's timeout when the handler gives none. */
  approvalTimeoutMs: number;
  /** The groups a request's `group:` approvers may name; null: not checked. */
  approvalGroups: readonly string[] | null;
  /** Who enqueued the job: a request's requester when the handler names none. */
  enqueuedBy: string | null;
  /** This execution's attempt number, for the step and gate events. */
  attempt: number;
  /** This execution's mode (`ctx.execution`): recorded on its requests, and checked again when one is settled. */
  execution: ExecutionMode;
}

const MAX_STEP_NAME = 200;

const since = (began: number) => Math.round(performance.now() - began);

/** A step's value as the JSON stored for it; INVALID_PAYLOAD naming the step if JSON cannot hold it. */
function stepResultJson(name: string, value: unknown): string {
  try {
    return serializePayload(value ?? null);
  } catch (err) {
    if (!(err instanceof OverseerError)) throw err;
    throw new OverseerError(
      err.code,
      `the result of step ${JSON.stringify(name)} cannot be stored as JSON: ${err.message}`,
      { ...err.details, field: "result", step: name },
    );
  }
}

export function durableContext(
  store: DurableStore,
  jobId: string,
  lease: () => Lease,
  /** Called when the job parks: the worker stops treating this execution as running. */
  onPark: (until: string) => void,
  settings: DurableSettings,
): DurableContext {
  let steps: Promise<Map<string, StepRecord>> | null = null;
  const stored = () => {
    steps ??= store.listJobSteps(jobId).then((list) => new Map(list.map((s) => [s.name, s])));
    return steps;
  };
  const counters = new Map<string, number>();
  const next = (prefix: string) => {
    const n = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, n);
    return `${prefix}#${n}`;
  };
  const remember = async (record: StepRecord) => (await stored()).set(record.name, record);
  const leaseLost = () =>
    new OverseerError("SHUTTING_DOWN", "the job's lease was lost; this execution's result will not be recorded", {
      jobId,
    });
  let parked = false;
  const park = (until: string): never => {
    parked = true;
    onPark(until);
    throw new JobParked(until);
  };
  /**
   * Appends one event to the job's timeline. A diagnostic: if the write fails, the step or gate
   * it describes goes on all the same (a failing store shows itself at the step's own write).
   */
  const note = (kind: string, data: Record<string, unknown>) =>
    store.appendEvents([{ kind, jobId, data }]).then(
      () => undefined,
      () => undefined,
    );

  const sleepFor = async (target: { delayMs?: number; until?: number }) => {
    const name = next("sleep");
    const done = (await stored()).get(name);
    const at = done ? Date.parse(JSON.parse(done.resultJson) as string) : null;
    const result = await store.sleepJob(lease(), at === null ? { step: name, ...target } : { step: name, until: at });
    if (result === null) throw leaseLost();
    if (result.parked) park(result.until);
  };

  /** The outcome as stored, with what the approved action may do now (the switch may have been turned off since). */
  const nowAllowed = (outcome: ApprovalOutcome): ApprovalOutcome =>
    outcome.execution === undefined
      ? outcome
      : { ...outcome, execution: approvedExecution({ execution: outcome.execution, test: false }, settings.execution) };

  const requestApproval = async (request: ApprovalRequest): Promise<ApprovalOutcome> => {
    const step = next("approval");
    const done = (await stored()).get(step);
    if (done) return nowAllowed(JSON.parse(done.resultJson) as ApprovalOutcome);
    const requestedBy = request.requestedBy ?? settings.enqueuedBy ?? undefined;
    const approval = buildNewApproval(
      { ...request, requestedBy },
      { id: newId(), step, defaultTimeoutMs: settings.approvalTimeoutMs, groups: settings.approvalGroups },
    );
    // The action runs in the job's mode at most, whatever the handler passed.
    const execution =
      approval.execution === undefined || approval.execution === null
        ? null
        : approvedExecution({ execution: approval.execution, test: false }, settings.execution);
    const result = await store.requestApproval(lease(), { ...approval, execution });
    if (result === null) throw leaseLost();
    if (result.kind === "parked") return park(result.approval.expiresAt);
    await remember(result.step);
    return nowAllowed(JSON.parse(result.step.resultJson) as ApprovalOutcome);
  };

  return {
    requestApproval,

    async gate(action: string, options: GateOptions): Promise<GateResult> {
      const request = {
        action,
        task: settings.task,
        risk: options?.risk,
        environment: options?.environment,
        confidence: options?.confidence ?? null,
      };
      checkGateRequest(settings.gates, request);
      const decision = shouldGate(settings.gates, request);
      // Every decision is on the job's timeline, `auto` included (each execution decides anew).
      await note("gate.decided", {
        action,
        decision: decision.action,
        reason: decision.reason,
        risk: options?.risk,
        environment: options?.environment,
        confidence: request.confidence,
        attempt: settings.attempt,
      });
      if (decision.action === "auto")
        return { action: "auto", reason: decision.reason, approved: true, approval: null };
      if (decision.action === "notify") {
        // Announced once per job: a step keeps the handler's later executions from repeating it.
        const name = next(`gate:${action}`);
        if (!(await stored()).has(name)) {
          const data = { action, risk: options.risk, environment: options.environment, reason: decision.reason };
          await store.appendEvents([{ kind: "gate.notified", jobId, data }]);
          const record = await store.recordStep(lease(), { name, kind: "step", resultJson: "true" });
          if (record === null) throw leaseLost();
          await remember(record);
        }
        return { action: "notify", reason: decision.reason, approved: true, approval: null };
      }
      const { risk, environment, title, details, confidence, ...rest } = options;
      const approval = await requestApproval({
        ...rest,
        title: title ?? `${action} (${environment}, ${risk} risk)`,
        details: details ?? {
          action,
          environment,
          risk,
          rule: decision.reason,
          ...(confidence === undefined ? {} : { confidence }),
        },
        risk,
      });
      return { action: "approve", reason: decision.reason, approved: approval.approved, approval };
    },

    async step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
      if (typeof name !== "string" || name === "" || name.length > MAX_STEP_NAME || name.includes("#")) {
        throw new OverseerError(
          "INVALID_ARGUMENT",
          `a step name must be 1-${MAX_STEP_NAME} characters without '#'; got ${JSON.stringify(name)}`,
          { field: "name" },
        );
      }
      const done = (await stored()).get(name);
      if (done) return JSON.parse(done.resultJson) as T;
      // The step's life on the job's timeline (see core/step-timeline.ts): started, then
      // completed with its result's size, or failed with the error it threw.
      const { attempt } = settings;
      await note("step.started", { name, attempt });
      const began = performance.now();
      let resultJson: string;
      try {
        resultJson = stepResultJson(name, await fn());
      } catch (err) {
        // A park inside the step (or one that cut it short) is not its failure: it runs again
        // when the job wakes, and the timeline shows it interrupted meanwhile.
        if (!(err instanceof JobParked) && !parked) {
          const { code, message } = toJobError(err);
          await note("step.failed", { name, attempt, durationMs: since(began), error: { code, message } });
        }
        throw err;
      }
      const durationMs = since(began);
      const record = await store.recordStep(lease(), { name, kind: "step", resultJson });
      if (record === null) throw leaseLost();
      const resultBytes = Buffer.byteLength(resultJson);
      await note("step.completed", { name, attempt, durationMs, resultBytes });
      await remember(record);
      return JSON.parse(record.resultJson) as T;
    },

    sleep(duration: Duration): Promise<void> {
      return sleepFor({ delayMs: parseDuration(duration, "sleep duration") });
    },

    sleepUntil(at: Date | string | number): Promise<void> {
      const ms = at instanceof Date ? at.getTime() : typeof at === "string" ? Date.parse(at) : at;
      if (!Number.isFinite(ms)) {
        throw new OverseerError("INVALID_ARGUMENT", `sleepUntil needs a date; got ${JSON.stringify(at)}`, {
          field: "at",
        });
      }
      return sleepFor({ until: ms });
    },

    async waitForEvent<T>(
      name: string,
      options: { match?: Record<string, unknown>; timeout: Duration },
    ): Promise<T | null> {
      if (typeof name !== "string" || name === "" || name.length > MAX_STEP_NAME) {
        throw new OverseerError("INVALID_ARGUMENT", `an event name must be 1-${MAX_STEP_NAME} characters`, {
          field: "name",
        });
      }
      const timeoutMs = parseDuration(options?.timeout, "waitForEvent timeout");
      const match = options.match ?? null;
      if (match !== null) serializePayload(match); // refuses what cannot be stored, before anything is
      const step = next(`wait:${name}`);
      const done = (await stored()).get(step);
      if (done) return JSON.parse(done.resultJson) as T | null;
      const result = await store.waitForSignal(lease(), { step, name, match, timeoutMs });
      if (result === null) throw leaseLost();
      if (result.kind === "parked") return park(result.until);
      await remember(result.step);
      return JSON.parse(result.step.resultJson) as T | null;
    },
  };
}
