/**
 * Turns a turn's output bytes into `run.output` events a person can watch live: chunks of at most
 * `maxChunkBytes` (cut between UTF-8 characters, at a line break when one is near), and at most
 * `maxEvents` per `windowMs` per run. No clock and no timers inside: every call takes `now`, and
 * `nextFlushAt()` says when calling `flush` would next emit something.
 *
 * Nothing is dropped silently. The full output of a turn is stored elsewhere, byte for byte, and
 * every event carries its `offset` into it. When output arrives faster than the event budget
 * (10/s x 2 KB = 20 KB/s by default), the coalescer keeps only the newest `maxPendingBytes` and
 * skips the older ones *in the event stream only*: the next event says `truncated: true` with
 * `skippedBytes`, which `GET .../output?turn=N` can read back by range. So memory stays bounded,
 * the rate limit is never exceeded, and `bytesIn = bytesEmitted + bytesSkipped + bytesPending`.
 */
import { OverseerError } from "./errors.js";
import { completePrefixLength, cutAtOrAfter, cutAtOrBefore } from "./utf8-boundary.js";

export interface OutputRateOptions {
  /** Most events in any `windowMs` interval. Default 10. */
  maxEvents?: number;
  windowMs?: number;
  /**
   * Least time between two events when the second one is short (less than a full chunk), so that
   * a trickle of small writes is gathered instead of spending the budget a few bytes at a time.
   * Full chunks ignore it. Default 100 (= windowMs / maxEvents).
   */
  minIntervalMs?: number;
}

/**
 * The event budget of one run: a sliding window of emission times. Shared by the coalescers of a
 * run's turns, so a turn still draining its output and the next turn never exceed it together.
 */
export class OutputRateWindow {
  readonly maxEvents: number;
  readonly windowMs: number;
  readonly minIntervalMs: number;
  /** Times of the last `maxEvents` events, oldest first. */
  private readonly times: number[] = [];
  /** The latest `now` seen: a clock that steps back is treated as standing still. */
  private latest = Number.NEGATIVE_INFINITY;

  constructor(options: OutputRateOptions = {}) {
    this.maxEvents = positiveInteger(options.maxEvents ?? 10, "maxEvents");
    this.windowMs = positiveInteger(options.windowMs ?? 1_000, "windowMs");
    this.minIntervalMs = nonNegativeInteger(
      options.minIntervalMs ?? Math.floor(this.windowMs / this.maxEvents),
      "minIntervalMs",
    );
  }

  /** Whether an event may be emitted at `now`; `short` applies the minimum interval too. */
  allows(now: number, short: boolean): boolean {
    return this.clamp(now) >= this.nextSlotAt(short);
  }

  /** Records an event at `now`; the caller has checked `allows`. */
  record(now: number): void {
    this.times.push(this.clamp(now));
    if (this.times.length > this.maxEvents) this.times.shift();
  }

  /** The earliest time at which `allows(t, short)` holds. */
  nextSlotAt(short: boolean): number {
    // A new event at t keeps "at most maxEvents in any window" iff the maxEvents-th most recent
    // event is at least windowMs before t.
    const full = this.times.length < this.maxEvents ? this.latest : this.times[0]! + this.windowMs;
    const last = this.times[this.times.length - 1];
    const spaced = short && last !== undefined ? last + this.minIntervalMs : Number.NEGATIVE_INFINITY;
    return Math.max(full, spaced, this.latest);
  }

  private clamp(now: number): number {
    if (now > this.latest) this.latest = now;
    return this.latest;
  }
}

export interface OutputChunkEvent {
  /** Where `text` starts in the turn's stored output, in bytes. */
  offset: number;
  /** Length of `text` in the stored output, in bytes (at most `maxChunkBytes`). */
  bytes: number;
  /** The bytes decoded as UTF-8; bytes that are not valid UTF-8 show as U+FFFD. */
  text: string;
  /** True when output before this chunk was skipped in the event stream (it is in the stored output). */
  truncated: boolean;
  /** Bytes between the previous event's end and `offset`, readable from the stored output. */
  skippedBytes: number;
}

export interface OutputCounters {
  bytesIn: number;
  bytesEmitted: number;
  /** Bytes only in the stored output: skipped by the event stream to respect the rate limit. */
  bytesSkipped: number;
  bytesPending: number;
  events: number;
}

export interface OutputCoalescerOptions {
  /** Default 2048. */
  maxChunkBytes?: number;
  /** Most bytes held between events; older bytes are skipped beyond it. Default 10 full chunks. */
  maxPendingBytes?: number;
  /** The run's shared budget; a fresh default window when omitted. */
  rate?: OutputRateWindow;
}

const NEWLINE = 0x0a;

/** One coalescer per turn (offsets are into that turn's output); one rate window per run. */
export class OutputCoalescer {
  readonly maxChunkBytes: number;
  readonly maxPendingBytes: number;
  readonly rate: OutputRateWindow;
  private pending: Buffer = Buffer.alloc(0);
  /** Offset of pending[0] in the stored output. */
  private pendingOffset = 0;
  private skippedSinceEvent = 0;
  private ended = false;
  private lastNow = Number.NEGATIVE_INFINITY;
  private readonly stats: OutputCounters = {
    bytesIn: 0,
    bytesEmitted: 0,
    bytesSkipped: 0,
    bytesPending: 0,
    events: 0,
  };

  constructor(options: OutputCoalescerOptions = {}) {
    this.maxChunkBytes = positiveInteger(options.maxChunkBytes ?? 2_048, "maxChunkBytes");
    if (this.maxChunkBytes < 4) throw invalidOption("maxChunkBytes", "must be at least 4 (one UTF-8 character)");
    this.maxPendingBytes = positiveInteger(options.maxPendingBytes ?? 10 * this.maxChunkBytes, "maxPendingBytes");
    if (this.maxPendingBytes <= this.maxChunkBytes) {
      throw invalidOption("maxPendingBytes", `must be more than maxChunkBytes (${this.maxChunkBytes})`);
    }
    this.rate = options.rate ?? new OutputRateWindow();
  }

  /**
   * Adds output (a string is taken as UTF-8). Emits only full chunks, never a short one, so the
   * events do not depend on how the bytes were chunked: short chunks wait for `flush`.
   */
  push(chunk: Uint8Array | string, now: number): OutputChunkEvent[] {
    if (this.ended) throw new Error("OutputCoalescer.push called after end()");
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    this.stats.bytesIn += bytes.length;
    if (bytes.length === 0) return [];
    this.pending = Buffer.concat([this.pending, bytes]);
    const events = this.emit(now, false);
    // Emit first, then bound the buffer: the order makes the result independent of chunking.
    if (this.pending.length > this.maxPendingBytes) {
      const cut = cutAtOrAfter(this.pending, this.pending.length - this.maxPendingBytes);
      this.pending = this.pending.subarray(cut);
      this.pendingOffset += cut;
      this.skippedSinceEvent += cut;
      this.stats.bytesSkipped += cut;
    }
    this.pending = Buffer.from(this.pending);
    this.stats.bytesPending = this.pending.length;
    return events;
  }

  /** Emits what the budget allows now, short chunks included. Call it at `nextFlushAt()`. */
  flush(now: number): OutputChunkEvent[] {
    const events = this.emit(now, true);
    this.stats.bytesPending = this.pending.length;
    return events;
  }

  /**
   * No more output for this turn: an unfinished character at the end is emitted as U+FFFD.
   * Whatever the budget does not allow yet stays pending: keep calling `flush` at
   * `nextFlushAt()` until `drained`.
   */
  end(now: number): OutputChunkEvent[] {
    this.ended = true;
    return this.flush(now);
  }

  /** When `flush` would next emit something, or undefined when nothing is waiting. */
  nextFlushAt(): number | undefined {
    if (this.emittableShort() === 0) return undefined;
    return Math.max(this.lastNow, this.rate.nextSlotAt(this.pending.length <= this.maxChunkBytes));
  }

  get drained(): boolean {
    return this.ended && this.pending.length === 0;
  }

  get counters(): OutputCounters {
    return { ...this.stats };
  }

  private emit(now: number, allowShort: boolean): OutputChunkEvent[] {
    this.lastNow = Math.max(this.lastNow, now);
    const events: OutputChunkEvent[] = [];
    // Strictly more than a chunk: then the cut depends only on bytes already here.
    while (this.pending.length > this.maxChunkBytes && this.rate.allows(now, false)) {
      events.push(this.take(this.fullCut(), now));
    }
    if (allowShort && this.pending.length <= this.maxChunkBytes) {
      const len = this.emittableShort();
      if (len > 0 && this.rate.allows(now, true)) events.push(this.take(len, now));
    }
    return events;
  }

  /** Bytes a short chunk could carry now: all, less an unfinished character unless ended. */
  private emittableShort(): number {
    return this.ended ? this.pending.length : completePrefixLength(this.pending);
  }

  /** Where to end a full chunk: after the last line break in it, else between two characters. */
  private fullCut(): number {
    const nl = this.pending.lastIndexOf(NEWLINE, this.maxChunkBytes - 1);
    if (nl >= 0) return nl + 1;
    const cut = cutAtOrBefore(this.pending, this.maxChunkBytes);
    return cut > 0 ? cut : this.maxChunkBytes;
  }

  private take(len: number, now: number): OutputChunkEvent {
    const slice = this.pending.subarray(0, len);
    const event: OutputChunkEvent = {
      offset: this.pendingOffset,
      bytes: len,
      text: slice.toString("utf8"),
      truncated: this.skippedSinceEvent > 0,
      skippedBytes: this.skippedSinceEvent,
    };
    this.pending = this.pending.subarray(len);
    this.pendingOffset += len;
    this.skippedSinceEvent = 0;
    this.stats.bytesEmitted += len;
    this.stats.events++;
    this.rate.record(now);
    return event;
  }
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw invalidOption(field, `must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidOption(field, `must be a non-negative integer, got ${value}`);
  }
  return value;
}

function invalidOption(field: string, message: string): OverseerError {
  return new OverseerError("INVALID_ARGUMENT", `${field} ${message}`, { field });
}
