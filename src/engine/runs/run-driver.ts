/**
 * Drives one run under its lease, turn after turn, until it finishes, is handed back, or the
 * lease is lost. Every write goes through `store.updateRun`, fenced by the lease, and every state
 * change is a transition of `core/run-state.ts`; what to do when a turn ends is
 * `core/run-turn-decision.ts`. A person's control action (from any node) reaches the driver as
 * a changed run state, through `refresh()` on store changes or the heartbeat:
 * - `cancelling`: the turn's process group gets SIGTERM, then SIGKILL after the grace period;
 * - `paused` while a turn runs (an immediate pause): the group is frozen (SIGSTOP) until
 *   `running` again (SIGCONT);
 * - `pausing`: the turn runs to its end, then the run is paused.
 * A run paused between turns holds no process: the driver hands it back, freeing its slot, and
 * whichever supervisor sees it resumed (or cancelled) takes it again. A turn that asked a person
 * something (a `question` or `approval_request` line) ends with the run `waiting` on the request,
 * which gives up the lease in the same write; whichever supervisor claims it once the request is
 * settled runs the next turn, with the answer in its input.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { isOverseerError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import { OutputRateWindow } from "../../core/output-coalescer.js";
import type {
  ClaimedRun,
  Run,
  RunLease,
  RunSpec,
  RunStats,
  RunTurn,
  RunTurnOutcome,
  RunUpdate,
} from "../../core/run.js";
import { type AskEvent, answerStep, askRequest, isAsk, toRunAnswer } from "../../core/run-ask.js";
import { isBudgetCode, progressAfterTurn, spentBudget } from "../../core/run-budget.js";
import {
  type InputFile,
  MAX_INPUT_FILE_BYTES,
  type PreviousTurn,
  renderTurnInput,
  takesAnswer,
  takesMessages,
  templateFiles,
} from "../../core/run-input.js";
import { applyTelemetry } from "../../core/run-stats.js";
import { decideAfterTurn, type TurnDecision } from "../../core/run-turn-decision.js";
import {
  MAX_GROWTH_BYTES,
  MAX_WATCHED_FILE_BYTES,
  type WatchedWindow,
  type WatchReading,
  watchedChanges,
} from "../../core/run-watch.js";
import type { Store } from "../../store/store.js";
import { groupMembers, signalGroup } from "./process-group.js";
import { readInside } from "./run-files.js";
import { telemetryEvent } from "./turn-output.js";
import { startTurn, type TurnHandle, type TurnResult } from "./turn-process.js";

export interface RunDriverOptions {
  store: Store;
  logger: Logger;
  claimed: ClaimedRun;
  leaseMs: number;
  host: string;
  env: NodeJS.ProcessEnv;
}

export class RunDriver {
  private run: Run;
  private readonly lease: RunLease;
  private stats: RunStats;
  private turn: TurnHandle | null = null;
  private frozen = false;
  private shuttingDown = false;
  private leaseLost = false;
  private refreshing: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private driving: Promise<void> | null = null;
  /** One output budget for all the run's turns on this node. */
  private readonly rate = new OutputRateWindow();
  /** How the last turn ended, for the next turn's input; undefined until read from the store. */
  private previous: PreviousTurn | null | undefined = undefined;

  constructor(private readonly options: RunDriverOptions) {
    this.run = options.claimed.run;
    this.lease = options.claimed.lease;
    this.stats = options.claimed.run.stats;
  }

  drive(): Promise<void> {
    this.driving ??= this.loop().catch((err: unknown) => {
      this.options.logger.error({ err, runId: this.run.id }, "run driver failed; the run is left to its lease");
    });
    return this.driving;
  }

  /** Re-reads the run and acts on a changed state (a control action). Cheap to call often. */
  refresh(): void {
    this.refreshing ??= this.options.store
      .getRun(this.run.id)
      .then((run) => {
        if (run !== null && run.workerId === this.lease.workerId) this.observe(run);
      })
      .catch((err: unknown) => this.options.logger.warn({ err, runId: this.run.id }, "reading the run failed"))
      .finally(() => {
        this.refreshing = null;
      });
  }

  /**
   * Shutdown: interrupts the turn (SIGTERM, SIGKILL after grace), or with `onShutdown: drain` lets
   * it finish (its turn timeout still applies) and records it; no next turn starts either way,
   * and the run is handed back.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.run.spec.onShutdown !== "drain") await this.turn?.stop("shutdown");
    await this.driving;
  }

  private async loop(): Promise<void> {
    this.killLeftovers();
    const every = Math.max(100, Math.min(2_000, Math.floor(this.options.leaseMs / 3)));
    this.heartbeat = setInterval(() => void this.beat(), every);
    try {
      while (!this.shuttingDown && !this.leaseLost) {
        const { state } = this.run;
        if (state === "completed" || state === "failed" || state === "cancelled" || state === "queued") return;
        // A run waiting for an answer gave its lease up as it began to wait: nothing to hand back.
        if (state === "waiting") return;
        if (state === "cancelling")
          await this.apply({ transition: "cancelled", transitionData: { turn: this.run.currentTurn } });
        else if (state === "pausing") await this.apply({ transition: "pausedAtTurnEnd" });
        else if (state === "paused") break;
        else await this.runTurn();
      }
      if (!this.leaseLost) await this.options.store.releaseRun(this.lease);
    } finally {
      if (this.heartbeat !== null) clearInterval(this.heartbeat);
    }
  }

  /** A node taking over a run kills what is left of the lost turn's process group on this host. */
  private killLeftovers(): void {
    const lost = this.options.claimed.takeover?.lostTurn;
    if (!lost || lost.pid === null || lost.host !== this.options.host) return;
    if (groupMembers(lost.pid).length === 0) return;
    signalGroup(lost.pid, "SIGKILL");
    this.options.logger.warn(
      { runId: this.run.id, pid: lost.pid, turn: lost.turn },
      "killed the processes of a lost turn",
    );
  }

  private async runTurn(): Promise<void> {
    const { spec } = this.run;
    const number = this.run.currentTurn + 1;
    if (number > spec.maxTurns) {
      const message = `the run used all ${spec.maxTurns} turns without meeting its completion rule`;
      await this.apply({ transition: "fail", error: { code: "RUN_MAX_TURNS", message, retryable: false } });
      return;
    }
    const stopFile = spec.completion.stopFile === undefined ? null : join(spec.cwd, spec.completion.stopFile);
    const stopBefore = await mtimeOf(stopFile);
    const { input, messageIds } =
      spec.input === undefined ? { input: undefined, messageIds: [] } : await this.renderInput(number);
    const statsAtStart = this.stats;
    const watchedBefore = await readWatched(spec, null);
    const startedAt = Date.now();
    const asks: AskEvent[] = [];
    let started: Promise<boolean> = Promise.resolve(true);
    const handle = startTurn({
      spec,
      runId: this.run.id,
      turn: number,
      rate: this.rate,
      ...(input === undefined ? {} : { input }),
      sourceEnv: this.options.env,
      logger: this.options.logger,
      sink: {
        write: async ({ offset, output, events, telemetry }) => {
          if (!(await started)) return;
          for (const t of telemetry) {
            this.stats = applyTelemetry(this.stats, t);
            if (isAsk(t)) asks.push(t);
          }
          this.stats = { ...this.stats, outputBytes: this.stats.outputBytes + output.length };
          const update: RunUpdate = { events, stats: this.stats };
          if (output.length > 0) update.output = { turn: number, offset, data: output };
          await this.apply(update);
        },
      },
    });
    this.turn = handle;
    this.stats = { ...this.stats, turns: this.stats.turns + 1 };
    started = this.apply({
      currentTurn: number,
      pid: handle.pid,
      turnStarted: { turn: number, pid: handle.pid, host: this.options.host },
      events: [
        {
          kind: "run.turn_started",
          data: { turn: number, pid: handle.pid, ...(messageIds.length > 0 ? { messages: messageIds } : {}) },
        },
      ],
      ...(messageIds.length > 0 ? { messagesDelivered: { turn: number, ids: messageIds } } : {}),
    });
    await started;
    this.observe(this.run);
    const result = await handle.done;
    this.turn = null;
    this.frozen = false;
    if (this.leaseLost) return;
    const stopAfter = await mtimeOf(stopFile);
    const appeared = stopAfter !== null && stopAfter !== stopBefore ? (spec.completion.stopFile ?? null) : null;
    // What the turn did to the watched files, whether or not the agent said so. Shown, not
    // counted: the agent may have reported the same change itself.
    const watched = watchedChanges(watchedBefore, await readWatched(spec, watchedBefore));
    const watchEvents = watched.map((event) => {
      const { kind, data } = telemetryEvent(number, event);
      return { kind, data: { ...data, watched: true } };
    });
    await this.finishTurn(number, result, appeared, Date.now() - startedAt, statsAtStart, watchEvents, asks);
  }

  /**
   * The turn's input from the profile's template, the files it names, the previous turn and the
   * messages waiting for it (whose ids the turn's start marks as given to it: a message sent
   * after this read waits for the next turn).
   */
  private async renderInput(turn: number): Promise<{ input: string; messageIds: string[] }> {
    const { spec } = this.run;
    const template = spec.input?.template ?? "";
    // The turns are read once: for the previous turn when this driver has not seen one end, and
    // for which turn's answer is owed when the template shows answers.
    const answers = takesAnswer(spec.input);
    const turns = this.previous === undefined || answers ? await this.options.store.listRunTurns(this.run.id) : [];
    if (this.previous === undefined) {
      const last = turns.filter((t) => t.outcome !== "running").at(-1);
      this.previous =
        last === undefined
          ? null
          : {
              turn: last.turn,
              outcome: last.outcome as PreviousTurn["outcome"],
              exitCode: last.exitCode,
              signal: last.signal,
            };
    }
    const files: Record<string, InputFile | null> = {};
    for (const path of templateFiles(template)) files[path] = await readTail(spec.cwd, path);
    const messages = takesMessages(spec.input) ? await this.options.store.waitingRunMessages(this.run.id) : [];
    const answer = answers ? await this.answerFor(turns, turn) : null;
    const input = renderTurnInput(template, {
      runId: this.run.id,
      turn,
      maxTurns: spec.maxTurns,
      params: this.run.params,
      previous: this.previous,
      messages: messages.map((m) => ({ body: m.body, sentBy: m.sentBy, at: m.createdAt })),
      files,
      answer,
    });
    return { input, messageIds: messages.map((m) => m.id) };
  }

  /**
   * The settled request the last turn that ran to its end made (the approval before the first
   * turn, before any did), as the input shows it: see `answerStep`.
   */
  private async answerFor(turns: readonly RunTurn[], turn: number) {
    const step = answerStep(turns, turn);
    const [latest] = await this.options.store.listApprovals({
      runId: this.run.id,
      states: ["approved", "denied", "timed_out"],
      limit: 1,
    });
    return latest !== undefined && latest.step === step ? toRunAnswer(latest) : null;
  }

  private async finishTurn(
    turn: number,
    result: TurnResult,
    stopFile: string | null,
    durationMs: number,
    statsAtStart: RunStats,
    watchEvents: NonNullable<RunUpdate["events"]>,
    asks: readonly AskEvent[],
  ): Promise<void> {
    const outcome = outcomeOf(result);
    this.previous = { turn, outcome, exitCode: result.exitCode, signal: result.signal };
    // A turn cut short by its node's shutdown says nothing about the agent's progress.
    if (outcome !== "interrupted")
      this.stats = { ...this.stats, progress: progressAfterTurn(statsAtStart, this.stats) };
    const closing: RunUpdate = {
      pid: null,
      stats: this.stats,
      turnFinished: { turn, outcome, exitCode: result.exitCode, signal: result.signal },
      events: [
        ...watchEvents,
        {
          kind: "run.turn_finished",
          data: {
            turn,
            outcome,
            exitCode: result.exitCode,
            signal: result.signal,
            outputBytes: result.outputBytes,
            durationMs,
          },
        },
      ],
    };
    const warn = (message: string) => closing.events?.push({ kind: "run.warning", data: { turn, message } });
    if (outcome === "interrupted") {
      const first = asks[0];
      if (first !== undefined) warn(notAsked(turn, first.kind, "the turn was interrupted"));
      await this.apply(closing);
      return;
    }
    const ask = this.requestOf(turn, asks, warn);
    const decision = decideAfterTurn(
      this.run.state,
      {
        turn,
        exitCode: result.exitCode,
        signal: result.signal,
        spawnError: result.spawnError,
        timedOut: result.timedOut,
        patternLine: result.patternLine,
        stopFile,
        asked: ask !== null,
      },
      this.run.spec,
      spentBudget(this.run.spec.budget, this.stats, elapsedSince(this.run.startedAt)),
    );
    // What the run did instead of waiting is said, so that a question is never dropped unseen.
    const unasked = (why: string) => {
      if (ask !== null) warn(notAsked(turn, ask.kind, why));
    };
    if (decision.transition === null) {
      unasked(notAskedBecause(decision, this.run.state));
      await this.apply(closing);
      return;
    }
    const update: RunUpdate = { ...closing, transition: decision.transition };
    if (decision.transition === "complete") {
      update.completion = decision.completion;
      update.transitionData = { ...decision.completion };
    } else if (decision.transition === "fail" || decision.transition === "budgetPaused") {
      if (decision.transition === "fail") update.error = decision.error;
      update.transitionData = { ...decision.error };
      if (isBudgetCode(decision.error.code)) {
        const action = decision.transition === "fail" ? "failed" : "paused";
        update.events = [
          ...(closing.events ?? []),
          { kind: "run.budget_exceeded", data: { ...decision.error, action } },
        ];
      }
    } else if (decision.transition === "ask" && ask !== null) {
      update.ask = ask;
      update.transitionData = {
        turn,
        approvalId: ask.id,
        kind: ask.kind,
        title: ask.title,
        ...(this.run.state === "pausing" ? { pauseDropped: true } : {}),
      };
    } else {
      update.transitionData = { turn };
    }
    // Why a request was not asked, in the write that records the turn: said once that write's
    // outcome is known, since a control action may have landed since the state was read.
    const because = decision.transition === "ask" ? null : notAskedBecause(decision, this.run.state);
    if (because !== null && ask !== null) {
      update.events = [
        ...(update.events ?? []),
        { kind: "run.warning", data: { turn, message: notAsked(turn, ask.kind, because) } },
      ];
    }
    if (await this.apply(update)) return;
    // Refused: record the turn without the transition, and let the loop decide again from the
    // state as it is now.
    unasked(`the run became ${this.run.state} as the turn ended`);
    await this.apply(closing);
  }

  /**
   * The request the turn's first question or approval request makes, under the run's policy;
   * null when it asked nothing. Asking more than once, or a request the policy cannot take,
   * `warn`s (a `run.warning` in the turn's closing write): the turn still ends, and the rest is not asked.
   */
  private requestOf(turn: number, asks: readonly AskEvent[], warn: (message: string) => void) {
    if (asks.length > 1) warn(`turn ${turn} asked ${asks.length} times; only its first request is asked`);
    const first = asks[0];
    if (first === undefined) return null;
    try {
      return askRequest(first, this.run.spec.approvals, { id: newId(), turn });
    } catch (err) {
      if (!isOverseerError(err)) throw err;
      warn(notAsked(turn, first.kind, err.message));
      return null;
    }
  }

  /** One fenced write. False when the transition is no longer legal (the run was re-read) or the lease is lost. */
  private async apply(update: RunUpdate): Promise<boolean> {
    if (this.leaseLost) return false;
    try {
      const run = await this.options.store.updateRun(this.lease, update);
      if (run === null) {
        this.loseLease();
        return false;
      }
      this.run = run;
      return true;
    } catch (err) {
      if (!isOverseerError(err, "RUN_INVALID_TRANSITION")) throw err;
      const run = await this.options.store.getRun(this.run.id);
      if (run !== null) this.run = run;
      return false;
    }
  }

  private async beat(): Promise<void> {
    if (this.leaseLost || this.run.state === "waiting") return;
    try {
      const run = await this.options.store.heartbeatRun(this.lease, this.options.leaseMs);
      if (run !== null) this.observe(run);
      // A beat racing the write that began a wait finds no lease: given up, not lost. Only then:
      // with a turn still running here, the run waiting means another node took it over.
      else if (this.turn !== null || (await this.options.store.getRun(this.run.id))?.state !== "waiting") {
        this.loseLease();
      }
    } catch (err) {
      this.options.logger.warn({ err, runId: this.run.id }, "run heartbeat failed; retrying");
    }
  }

  /** Acts on the run's state as read from the store. */
  private observe(run: Run): void {
    if (run.version < this.run.version) return;
    this.run = run;
    const turn = this.turn;
    if (turn !== null) {
      if (run.state === "cancelling") void turn.stop("cancel");
      else if (run.state === "paused" && !this.frozen) {
        turn.freeze();
        this.frozen = true;
      } else if ((run.state === "running" || run.state === "pausing") && this.frozen) {
        turn.thaw();
        this.frozen = false;
      }
    }
  }

  /** Another supervisor holds the run now: stop the turn and write nothing more. */
  private loseLease(): void {
    if (this.leaseLost) return;
    this.leaseLost = true;
    this.options.logger.warn({ runId: this.run.id }, "lost the run's lease; stopping its turn");
    void this.turn?.stop("shutdown");
  }
}

/** A turn's `run.warning` for a request it did not ask, and why. */
function notAsked(turn: number, kind: string | undefined, why: string): string {
  return `turn ${turn}'s ${kind} was not asked: ${why}`;
}

/** Why a turn's request was not asked, for its `run.warning`: the run ended or stopped instead. */
function notAskedBecause(decision: TurnDecision, state: Run["state"]): string {
  switch (decision.transition) {
    case "complete":
      return `the run completed (${decision.completion.detected} in the same turn)`;
    case "fail":
      return `the run failed (${decision.error.code})`;
    case "budgetPaused":
      return `the run was paused at its budget (${decision.error.code})`;
    case "cancelled":
      return "the run is being cancelled";
    default:
      return `the run is ${state}`;
  }
}

function outcomeOf(result: TurnResult): Exclude<RunTurnOutcome, "running"> {
  if (result.spawnError !== null) return "spawn_failed";
  // The store failed mid-turn and the turn was stopped: like a shutdown, the run can go on.
  if (result.sinkError !== null) return "interrupted";
  if (result.stoppedBy === "cancel") return "cancelled";
  if (result.stoppedBy === "shutdown") return "interrupted";
  if (result.timedOut) return "timed_out";
  return "exited";
}

function elapsedSince(iso: string | null): number | null {
  return iso === null ? null : Date.now() - Date.parse(iso);
}

/**
 * The watched files as they are now: before the turn (`earlier` null) each one's last
 * MAX_WATCHED_FILE_BYTES; after it, the same window on from its offset plus what grew (its
 * tail instead if it shrank below the earlier window), as run-watch.ts compares them.
 */
async function readWatched(spec: RunSpec, earlier: WatchReading | null): Promise<WatchReading> {
  const reading = new Map<string, WatchedWindow | null>();
  for (const path of spec.watch ?? []) {
    const was = earlier?.get(path) ?? null;
    const on =
      was === null
        ? null
        : await readInside(spec.cwd, path, { from: was.start, length: was.size - was.start + MAX_GROWTH_BYTES });
    const grew = on !== null && was !== null && on.size >= was.size;
    reading.set(path, grew ? on : await readInside(spec.cwd, path, { length: MAX_WATCHED_FILE_BYTES }));
  }
  return reading;
}

/** A template's `{{file:...}}`: the file's last MAX_INPUT_FILE_BYTES; null when it is absent (or no regular file inside cwd). */
async function readTail(cwd: string, path: string): Promise<InputFile | null> {
  const window = await readInside(cwd, path, { length: MAX_INPUT_FILE_BYTES });
  return window === null ? null : { text: window.text, omittedBytes: window.start };
}

async function mtimeOf(path: string | null): Promise<number | null> {
  if (path === null) return null;
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}
