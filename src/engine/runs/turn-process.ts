/**
 * Runs one turn of a run as a real subprocess in a process group of its own, and turns what it
 * prints into stored output and events through a `TurnOutput`. Invariants: no process of the
 * group outlives the turn (`done` resolves only once the group is empty, whether the leader
 * exited by itself, was stopped, or timed out); a command that cannot start resolves `done`
 * with `spawnError` and never throws; nothing the command printed is lost before the sink.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { splitterFor } from "../../core/agent-streams/index.js";
import { type Logger, silentLogger } from "../../core/logger.js";
import type { OutputRateWindow } from "../../core/output-coalescer.js";
import type { RunSpec } from "../../core/run.js";
import type { SplitItem } from "../../core/telemetry-splitter.js";
import { LineMatcher } from "./line-matcher.js";
import { groupMembers, signalGroup, waitGroupGone } from "./process-group.js";
import { mkdirParents, writeInside } from "./run-files.js";
import { TurnOutput, type TurnOutputOptions, type TurnSink } from "./turn-output.js";

export type StopReason = "cancel" | "timeout" | "shutdown";

export interface TurnOptions {
  runId: string;
  /** 1-based. */
  turn: number;
  spec: RunSpec;
  sink: TurnSink;
  /** The run's `run.output` budget, shared by all its turns. */
  rate: OutputRateWindow;
  /** The turn's rendered input, given as `spec.input.via` says; none without `spec.input`. */
  input?: string;
  /** Where the names in `spec.env` are read from. Default `process.env`. */
  sourceEnv?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Batching and backpressure tuning; the defaults suit production. */
  output?: Pick<TurnOutputOptions, "flushBytes" | "flushIntervalMs" | "highWaterBytes" | "now">;
}

export interface TurnResult {
  /** Null when the command was killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why the command could not start (`spawn x ENOENT`...); the other fields are then empty. */
  spawnError: string | null;
  /** The reason given to the first `stop()` that came before the command exited by itself. */
  stoppedBy: StopReason | null;
  timedOut: boolean;
  /** The first output line matching `spec.completion.pattern` (trimmed, at most 1,000 characters). */
  patternLine: string | null;
  /** Output bytes the sink stored (telemetry lines excluded). */
  outputBytes: number;
  /** The sink failed: the turn was stopped, and output after `outputBytes` was not stored. */
  sinkError: string | null;
}

export interface TurnHandle {
  /** The command's pid, which is also its process group id; null when it could not start. */
  readonly pid: number | null;
  readonly frozen: boolean;
  /** SIGSTOP to the whole group. The turn timeout does not run while frozen. */
  freeze(): void;
  /** SIGCONT to the whole group. */
  thaw(): void;
  /** SIGTERM (and SIGCONT) to the group, SIGKILL after `spec.graceMs`; resolves when the group is gone. */
  stop(reason: StopReason): Promise<void>;
  /** Resolves (never rejects) once the group is gone and every byte and event is in the sink. */
  readonly done: Promise<TurnResult>;
  /** The most output bytes held in memory at once, for tests and metrics. */
  readonly maxBufferedBytes: number;
}

/** After SIGKILL, how long to wait for the kernel to take the group down before giving up. */
const KILL_WAIT_MS = 5_000;
/** After the group is gone, how long the pipes may stay open (held by a process that left the group). */
const PIPE_DRAIN_MS = 2_000;

/** The command's environment: only the allowed names from `source`, plus the run's own variables. */
export function turnEnv(spec: RunSpec, runId: string, turn: number, source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of spec.env) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  env.OVERSEER_RUN_ID = runId;
  env.OVERSEER_TURN = String(turn);
  env.OVERSEER_MAX_TURNS = String(spec.maxTurns);
  if (spec.input?.via === "file") env.OVERSEER_INPUT_FILE = resolve(spec.cwd, spec.input.file);
  return env;
}

/** The turn's arguments: with an `arg` input, `{{input}}` becomes the rendered input. */
export function turnArgs(spec: RunSpec, input: string | undefined): string[] {
  if (spec.input?.via !== "arg") return spec.args;
  return spec.args.map((arg) => arg.replace(/\{\{\s*input\s*\}\}/g, () => input ?? ""));
}

export function startTurn(options: TurnOptions): TurnHandle {
  return new Turn(options);
}

class Turn implements TurnHandle {
  readonly done: Promise<TurnResult>;
  private readonly spec: RunSpec;
  private readonly logger: Logger;
  private readonly output: TurnOutput;
  private readonly matchers: LineMatcher[] = [];
  private child: ChildProcess | null = null;
  private pgid: number | null = null;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private spawnError: string | null = null;
  private stoppedBy: StopReason | null = null;
  private sinkError: string | null = null;
  private killing: Promise<void> | null = null;
  private isFrozen = false;
  private timeoutTimer: NodeJS.Timeout | null = null;
  private timeoutLeftMs: number;
  private timeoutStartedAt = 0;
  private finished = false;

  constructor(private readonly options: TurnOptions) {
    this.spec = options.spec;
    this.logger = options.logger ?? silentLogger;
    this.timeoutLeftMs = this.spec.turnTimeoutMs;
    this.output = new TurnOutput({
      ...options.output,
      turn: options.turn,
      sink: options.sink,
      rate: options.rate,
      onPressure: (paused) => this.setReading(!paused),
      onError: (err) => this.onSinkError(err),
    });
    this.done = this.run();
  }

  get pid(): number | null {
    return this.pgid;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  get maxBufferedBytes(): number {
    return this.output.maxBufferedBytes;
  }

  freeze(): void {
    if (this.pgid === null || this.exited !== null || this.killing !== null || this.isFrozen) return;
    signalGroup(this.pgid, "SIGSTOP");
    this.isFrozen = true;
    this.pauseTimeout();
  }

  thaw(): void {
    if (this.pgid === null || !this.isFrozen) return;
    this.isFrozen = false;
    signalGroup(this.pgid, "SIGCONT");
    if (this.exited === null && this.killing === null) this.resumeTimeout();
  }

  stop(reason: StopReason): Promise<void> {
    if (this.pgid === null || this.finished) return Promise.resolve();
    // A leader that already exited by itself was not stopped: its leftovers are cleaned up anyway.
    if (this.stoppedBy === null && this.exited === null) this.stoppedBy = reason;
    return this.terminate();
  }

  private async run(): Promise<TurnResult> {
    const child = this.spawn();
    if (child !== null) {
      const streamsClosed = this.readStreams(child);
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | null>((resolve) => {
        child.once("exit", (code, signal) => resolve({ code, signal }));
        child.once("error", (err) => {
          // Only a failed start matters here: we never use child.kill(), the other source of "error".
          if (child.pid === undefined) {
            this.spawnError = err.message;
            resolve(null);
          } else {
            this.logger.error({ err, pid: child.pid }, "turn process error");
          }
        });
      });
      this.exited = exit ?? { code: null, signal: null };
      this.clearTimeout();
      if (this.pgid !== null) {
        // The leader is gone; whatever it started must not outlive the turn.
        if (groupMembers(this.pgid).length > 0) await this.terminate();
        if (this.killing !== null) await this.killing;
      }
      await this.waitForPipes(child, streamsClosed);
    }
    for (const matcher of this.matchers) matcher.end();
    await this.output.end();
    this.finished = true;
    const patternLine = this.matchers.map((m) => m.match).find((m) => m !== null) ?? null;
    return {
      exitCode: this.spawnError === null ? (this.exited?.code ?? null) : null,
      signal: this.spawnError === null ? (this.exited?.signal ?? null) : null,
      spawnError: this.spawnError,
      stoppedBy: this.stoppedBy,
      timedOut: this.stoppedBy === "timeout",
      patternLine,
      outputBytes: this.output.storedBytes,
      sinkError: this.sinkError,
    };
  }

  /** Starts the command; null (with `spawnError` set) when that failed synchronously. */
  private spawn(): ChildProcess | null {
    const { spec, runId, turn } = this.options;
    const pattern = this.compilePattern();
    try {
      mkdirParents(spec.cwd);
      const { input } = this.options;
      const via = spec.input?.via;
      if (via === "file" && spec.input !== undefined) writeInside(spec.cwd, spec.input.file, input ?? "");
      const child = spawn(spec.command, turnArgs(spec, input), {
        cwd: spec.cwd,
        // Its own process group, so every signal reaches whatever it starts.
        detached: true,
        stdio: [via === "stdin" ? "pipe" : "ignore", "pipe", "pipe"],
        env: turnEnv(spec, runId, turn, this.options.sourceEnv ?? process.env),
      });
      if (via === "stdin" && child.stdin !== null) {
        // A command that exits without reading all of it closes the pipe: that is its choice.
        child.stdin.on("error", () => undefined);
        child.stdin.end(input ?? "");
      }
      if (child.pid !== undefined) {
        this.pgid = child.pid;
        this.resumeTimeout();
      }
      if (pattern !== null) this.matchers.push(new LineMatcher(pattern), new LineMatcher(pattern));
      this.child = child;
      return child;
    } catch (err) {
      this.spawnError = err instanceof Error ? err.message : String(err);
      return null;
    }
  }

  private compilePattern(): RegExp | null {
    const source = this.spec.completion.pattern;
    if (source === undefined) return null;
    try {
      return new RegExp(source);
    } catch (err) {
      this.output.warn(`completion pattern is not a valid regular expression: ${(err as Error).message}`);
      return null;
    }
  }

  /**
   * Feeds both pipes through their splitters into the one output; resolves when both closed. Each
   * pipe has its own splitter (and, in an agent stream mode, its own adapter): an agent may print
   * its JSON Lines on either.
   */
  private readStreams(child: ChildProcess): Promise<void> {
    const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
    return Promise.all(
      streams.map((stream, i) => {
        const splitter = splitterFor(this.spec.telemetry);
        const matcher = () => this.matchers[i];
        const feed = (items: SplitItem[]) => {
          for (const item of items) {
            if (item.type === "output") {
              this.output.pushOutput(item.bytes);
              matcher()?.push(item.bytes);
            } else if (item.type === "telemetry") {
              this.output.pushTelemetry(item.event);
            } else {
              this.output.warn(item.reason);
            }
          }
        };
        stream.on("data", (chunk: Buffer) => feed(splitter.push(chunk)));
        return new Promise<void>((resolve) => {
          stream.once("error", (err) => this.logger.warn({ err, pid: this.pgid }, "turn output pipe failed"));
          // "close" comes after "end", and also after destroy(): the splitter gives up what it held.
          stream.once("close", () => {
            feed(splitter.end());
            resolve();
          });
        });
      }),
    ).then(() => undefined);
  }

  /** Pipes stay open while something holds them; the group is gone, so that is an escapee. */
  private async waitForPipes(child: ChildProcess, closed: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), PIPE_DRAIN_MS);
    });
    const late = await Promise.race([closed.then(() => false), timedOut]);
    clearTimeout(timer);
    if (!late) return;
    const message = `the turn's output pipes stayed open ${PIPE_DRAIN_MS} ms after its process group was gone (a process that left the group holds them); stopped reading`;
    this.logger.warn({ pid: this.pgid, turn: this.options.turn }, message);
    this.output.warn(message);
    child.stdout?.destroy();
    child.stderr?.destroy();
    await closed;
  }

  /** SIGTERM, SIGCONT (a frozen group must run to die), then SIGKILL after the grace period. */
  private terminate(): Promise<void> {
    const pgid = this.pgid;
    if (pgid === null) return Promise.resolve();
    this.killing ??= (async () => {
      this.clearTimeout();
      signalGroup(pgid, "SIGTERM");
      signalGroup(pgid, "SIGCONT");
      this.isFrozen = false;
      if (await waitGroupGone(pgid, this.spec.graceMs)) return;
      signalGroup(pgid, "SIGKILL");
      if (await waitGroupGone(pgid, KILL_WAIT_MS)) return;
      const left = groupMembers(pgid);
      this.logger.error({ pgid, left }, "processes of a turn survived SIGKILL");
      this.output.warn(`processes ${left.join(", ")} of the turn survived SIGKILL`);
    })();
    return this.killing;
  }

  private setReading(on: boolean): void {
    for (const stream of [this.child?.stdout, this.child?.stderr]) {
      if (!stream) continue;
      if (on) stream.resume();
      else stream.pause();
    }
  }

  private onSinkError(err: Error): void {
    this.sinkError = err.message;
    this.logger.error(
      { err, pid: this.pgid, turn: this.options.turn },
      "turn output could not be stored; stopping the turn",
    );
    void this.terminate();
  }

  private resumeTimeout(): void {
    this.timeoutStartedAt = Date.now();
    this.timeoutTimer = setTimeout(() => void this.stop("timeout"), Math.max(0, this.timeoutLeftMs));
  }

  private pauseTimeout(): void {
    if (this.timeoutTimer === null) return;
    this.clearTimeout();
    this.timeoutLeftMs -= Date.now() - this.timeoutStartedAt;
  }

  private clearTimeout(): void {
    if (this.timeoutTimer !== null) clearTimeout(this.timeoutTimer);
    this.timeoutTimer = null;
  }
}
