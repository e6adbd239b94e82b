/**
 * The one reader of the event log per server process. It follows the log by sequence number
 * and hands each new batch to every subscriber (SSE and WebSocket clients, the metrics), so a
 * thousand clients cost one query per wakeup, not a thousand.
 *
 * Invariant: `cursor` is the highest seq delivered, and every event up to it has been handed to
 * every subscriber that was subscribed at the time. Reading by seq is gap-free on both backends:
 * seq order is commit order (SQLite has one writer; PostgreSQL assigns seq under its event lock
 * at commit). It wakes on the store's `onChange` and also polls, because writes by other
 * processes and nodes do not always raise `onChange` (PostgreSQL only notifies for new work).
 * Subscribers must not block: they buffer or drop, never await.
 */
import type { Logger } from "../../core/logger.js";
import type { OverseerEvent } from "../../core/types.js";
import type { Store } from "../../store/store.js";

/** An event and its JSON, serialised once for every client. */
export interface HubEvent {
  readonly event: OverseerEvent;
  readonly json: string;
}

export type HubListener = (batch: readonly HubEvent[]) => void;

/** What the hub reads: the log, its newest seq, and the wakeups of commits (an Overseer is one). */
export type EventLog = Pick<Store, "readEvents" | "lastEventSeq" | "onChange">;

export interface EventHubOptions {
  store: EventLog;
  logger: Logger;
  /** How often to look for events when nothing woke the reader. Default 250 ms. */
  pollMs?: number;
  /** Events per read. Default 1,000. */
  batchSize?: number;
}

export class EventHub {
  private readonly store: EventLog;
  private readonly logger: Logger;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly listeners = new Set<HubListener>();
  private position = 0;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private woken = false;
  private unsubscribe: (() => void) | null = null;
  private failures = 0;

  constructor(options: EventHubOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.pollMs = options.pollMs ?? 250;
    this.batchSize = options.batchSize ?? 1_000;
  }

  /** The highest seq every subscriber has been given. */
  get cursor(): number {
    return this.position;
  }

  /** Starts following from the newest event: what came before is the clients' replay to read. */
  async start(): Promise<void> {
    if (this.running) return;
    this.position = await this.store.lastEventSeq();
    this.running = true;
    this.unsubscribe = this.store.onChange(() => this.poke());
    this.loop = this.follow();
  }

  /** Called synchronously with each batch, in seq order. Returns an unsubscribe. */
  subscribe(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads now rather than at the next poll (tests, and callers that just wrote). */
  poke(): void {
    this.woken = true;
    this.wake?.();
  }

  async close(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.poke();
    await this.loop;
    this.listeners.clear();
  }

  private async follow(): Promise<void> {
    while (this.running) {
      let full = false;
      try {
        full = await this.readOnce();
        this.failures = 0;
      } catch (err) {
        // The store may be briefly unavailable (a PostgreSQL failover); keep trying, slower.
        this.failures++;
        if (this.failures === 1 || this.failures % 100 === 0) {
          this.logger.warn({ err, failures: this.failures }, "event stream reader: reading the event log failed");
        }
      }
      if (full || !this.running) continue;
      await this.sleep(
        this.failures > 0 ? Math.min(5_000, this.pollMs * 2 ** Math.min(this.failures, 5)) : this.pollMs,
      );
    }
  }

  /** One read and its delivery; true when the page was full (more may be waiting). */
  private async readOnce(): Promise<boolean> {
    this.woken = false;
    const events = await this.store.readEvents({ afterSeq: this.position, limit: this.batchSize });
    if (events.length === 0 || !this.running) return false;
    const batch = events.map((event) => ({ event, json: JSON.stringify(event) }));
    this.position = events[events.length - 1]?.seq ?? this.position;
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch (err) {
        // One subscriber's bug must not starve the others; it is logged with its context.
        this.logger.error({ err }, "event stream reader: a subscriber failed");
      }
    }
    return events.length === this.batchSize;
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
