/**
 * One turn's output on its way to the store: stored bytes in batches, and the events that go
 * with them (`run.output` from the run's rate-limited coalescer, telemetry, warnings), handed to
 * a sink one batch at a time. Invariants: every byte received is written once, at the offset
 * after the previous one; a `run.output` event is written in the batch holding its bytes or a
 * later one; memory stays bounded because the child's pipes are paused while the sink lags.
 *
 * `run.output` events are made when a batch is built, just before it goes to the sink, so the
 * rate limit holds for the times the sink sees them, however long earlier writes took.
 */
import { OutputCoalescer, type OutputRateWindow } from "../../core/output-coalescer.js";
import type { TelemetryEvent } from "../../core/run-telemetry.js";

export interface TurnEvent {
  /** One of `RUN_EVENT_KINDS`. */
  kind: string;
  /** Always holds `turn`. */
  data: Record<string, unknown>;
}

export interface TurnBatch {
  /** Where `output` starts in the turn's stored output: the bytes written by earlier batches. */
  offset: number;
  /** May be empty when the batch only carries events. */
  output: Buffer;
  events: TurnEvent[];
  /** The telemetry among `events`, typed, for the run's stats (`applyTelemetry`) in the same write. */
  telemetry: TelemetryEvent[];
}

export interface TurnSink {
  /** Called one at a time (the next call waits for the previous promise), in order. */
  write(batch: TurnBatch): Promise<void>;
}

export interface TurnOutputOptions {
  turn: number;
  sink: TurnSink;
  /** The run's `run.output` budget, shared by all its turns. */
  rate: OutputRateWindow;
  /** A batch is written once this many bytes wait. Default 256 KiB. */
  flushBytes?: number;
  /** ...or once the oldest waiting byte or event is this old. Default 200. */
  flushIntervalMs?: number;
  /** While a write is in flight and more than this waits, reading pauses. Default 1 MiB. */
  highWaterBytes?: number;
  /** Clock for batching and the rate limit; default `Date.now`. */
  now?: () => number;
  /** `true`: stop reading the child's pipes (the child blocks when they fill); `false`: read again. */
  onPressure?: (paused: boolean) => void;
  /** The sink failed: nothing more will be written; what arrives from now on is discarded. */
  onError?: (err: Error) => void;
}

interface Positioned {
  /** Bytes received when the event was made: it belongs after them. */
  pos: number;
  event: TurnEvent;
}

/** A batch with nothing to write is retried no sooner than this, so a wrong timer cannot spin. */
const IDLE_RETRY_MS = 10;

export class TurnOutput {
  private readonly turn: number;
  private readonly sink: TurnSink;
  private readonly coalescer: OutputCoalescer;
  private readonly flushBytes: number;
  private readonly flushIntervalMs: number;
  private readonly highWaterBytes: number;
  private readonly now: () => number;
  private readonly onPressure: (paused: boolean) => void;
  private readonly onError: (err: Error) => void;

  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private inFlightBytes = 0;
  private received = 0;
  /** Offset of the next batch: bytes already handed to the sink. */
  private written = 0;
  private stored = 0;
  private peak = 0;
  private events: Positioned[] = [];
  private telemetry: TelemetryEvent[] = [];
  private oldestWaitingAt: number | null = null;
  private writing = false;
  private paused = false;
  private ended = false;
  private coalescerEnded = false;
  private failure: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private idle: Array<() => void> = [];

  constructor(options: TurnOutputOptions) {
    this.turn = options.turn;
    this.sink = options.sink;
    this.coalescer = new OutputCoalescer({ rate: options.rate });
    this.flushBytes = options.flushBytes ?? 256 * 1024;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.highWaterBytes = options.highWaterBytes ?? 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.onPressure = options.onPressure ?? (() => undefined);
    this.onError = options.onError ?? (() => undefined);
  }

  /** Bytes of output received so far (telemetry lines excluded). */
  get receivedBytes(): number {
    return this.received;
  }

  /** Bytes the sink has acknowledged. */
  get storedBytes(): number {
    return this.stored;
  }

  /** The most output bytes held at once (waiting plus being written). */
  get maxBufferedBytes(): number {
    return this.peak;
  }

  get error(): Error | null {
    return this.failure;
  }

  pushOutput(bytes: Buffer): void {
    if (this.ended) throw new Error("TurnOutput.pushOutput called after end()");
    if (bytes.length === 0 || this.failure) return;
    this.received += bytes.length;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.peak = Math.max(this.peak, this.queuedBytes + this.inFlightBytes);
    this.oldestWaitingAt ??= this.now();
    if (this.writing && !this.paused && this.queuedBytes > this.highWaterBytes) this.setPaused(true);
    this.schedule();
  }

  pushTelemetry(event: TelemetryEvent): void {
    if (this.failure) return;
    this.telemetry.push(event);
    this.pushEvent(telemetryEvent(this.turn, event));
  }

  /** A `run.warning` for this turn (an invalid telemetry line, say). */
  warn(message: string): void {
    this.pushEvent({ kind: "run.warning", data: { turn: this.turn, message } });
  }

  /**
   * No more input. Resolves once everything is written and the `run.output` events have caught
   * up (at most about a second more under the default budget), or once the sink failed.
   */
  end(): Promise<void> {
    this.ended = true;
    const done = new Promise<void>((resolve) => this.idle.push(resolve));
    this.schedule();
    return done;
  }

  private pushEvent(event: TurnEvent): void {
    if (this.ended) throw new Error("TurnOutput event pushed after end()");
    if (this.failure) return;
    this.events.push({ pos: this.received, event });
    this.oldestWaitingAt ??= this.now();
    this.schedule();
  }

  private setPaused(paused: boolean): void {
    this.paused = paused;
    this.onPressure(paused);
  }

  private schedule(): void {
    if (this.writing) return;
    if (this.failure) {
      this.settleIdle();
      return;
    }
    const now = this.now();
    const due = this.dueAt(now);
    if (due === undefined) {
      this.clearTimer();
      if (this.ended) this.settleIdle();
      return;
    }
    if (due <= now) {
      this.clearTimer();
      void this.flush();
      return;
    }
    if (this.timer !== null && this.timerAt <= due) return;
    this.clearTimer();
    this.timerAt = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.schedule();
    }, due - now);
  }

  /** When the next batch should be built; undefined when nothing waits. */
  private dueAt(now: number): number | undefined {
    const waiting = this.queuedBytes > 0 || this.events.length > 0;
    if (this.ended && (waiting || !this.coalescerEnded)) return now;
    if (this.queuedBytes >= this.flushBytes) return now;
    let due = waiting && this.oldestWaitingAt !== null ? this.oldestWaitingAt + this.flushIntervalMs : undefined;
    const live = this.coalescer.nextFlushAt();
    if (live !== undefined) due = due === undefined ? live : Math.min(due, live);
    return due;
  }

  private async flush(): Promise<void> {
    this.writing = true;
    const now = this.now();
    const output = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queuedBytes);
    const offset = this.written;
    this.written += output.length;
    this.inFlightBytes = output.length;
    this.queue = [];
    this.queuedBytes = 0;
    this.oldestWaitingAt = null;
    // The queue was just taken whole: reading can go on while this batch is written.
    if (this.paused) this.setPaused(false);

    const chunks = output.length > 0 ? this.coalescer.push(output, now) : [];
    if (this.ended && !this.coalescerEnded) {
      this.coalescerEnded = true;
      chunks.push(...this.coalescer.end(now));
    } else {
      chunks.push(...this.coalescer.flush(now));
    }
    const outputEvents = chunks.map((c) => ({
      pos: c.offset + c.bytes,
      event: { kind: "run.output", data: { turn: this.turn, ...c } },
    }));
    const events = mergeByPosition(this.events, outputEvents);
    const telemetry = this.telemetry;
    this.events = [];
    this.telemetry = [];

    if (output.length === 0 && events.length === 0) {
      this.writing = false;
      this.inFlightBytes = 0;
      // Nothing was due after all; try again a little later rather than at once.
      const due = this.dueAt(now);
      if (due !== undefined && due <= now && !this.ended) {
        this.timerAt = now + IDLE_RETRY_MS;
        this.timer = setTimeout(() => {
          this.timer = null;
          this.timerAt = Number.POSITIVE_INFINITY;
          this.schedule();
        }, IDLE_RETRY_MS);
        return;
      }
      this.schedule();
      return;
    }
    try {
      await this.sink.write({ offset, output, events, telemetry });
      this.stored = offset + output.length;
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.writing = false;
      this.inFlightBytes = 0;
    }
    this.schedule();
  }

  private fail(err: Error): void {
    this.failure = err;
    this.queue = [];
    this.queuedBytes = 0;
    this.events = [];
    this.telemetry = [];
    this.clearTimer();
    // Keep the child's pipes flowing so it is never stuck on a write nobody will read.
    if (this.paused) this.setPaused(false);
    this.onError(err);
  }

  private settleIdle(): void {
    if (!this.ended || this.writing) return;
    const waiters = this.idle;
    this.idle = [];
    for (const resolve of waiters) resolve();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}

/** Events in output order: a `run.output` event (keyed by its end) before events made after its bytes. */
function mergeByPosition(a: Positioned[], b: Positioned[]): TurnEvent[] {
  const out: TurnEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j < b.length && (i >= a.length || b[j]!.pos <= a[i]!.pos)) out.push(b[j++]!.event);
    else out.push(a[i++]!.event);
  }
  return out;
}

/** The run event for a telemetry event: `run.<kind>`, and custom kinds as `run.custom`. */
export function telemetryEvent(turn: number, event: TelemetryEvent): TurnEvent {
  if (event.kind.startsWith("custom.")) {
    const { data } = event as Extract<TelemetryEvent, { data: unknown }>;
    return { kind: "run.custom", data: { turn, kind: event.kind, data } };
  }
  const { kind, ...fields } = event;
  return { kind: `run.${kind}`, data: { turn, ...fields } };
}
