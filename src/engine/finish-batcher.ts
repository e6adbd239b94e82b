/**
 * Records attempt outcomes in batches: everything that finished in one turn of the event loop
 * is committed in one transaction. A result not yet committed when the process dies is not
 * lost work: the job's lease expires and it runs again (at-least-once, never concurrently).
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Logger } from "../core/logger.js";
import type { AttemptResult } from "../store/store.js";

/** Records a batch of outcomes; resolves, per result, whether its lease was still held. */
export type FlushResults = (results: AttemptResult[]) => Promise<boolean[]>;

interface Pending {
  result: AttemptResult;
  resolve: (applied: boolean) => void;
  reject: (err: unknown) => void;
}

const MAX_TRIES = 5;

export class FinishBatcher {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;

  /** @param onIdle called each time the last batch is recorded and nothing more waits. */
  constructor(
    private readonly record: FlushResults,
    private readonly logger: Logger,
    private readonly onIdle: () => void = () => undefined,
  ) {}

  /** Resolves with whether the lease was still held (the outcome was recorded). */
  add(result: AttemptResult): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ result, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          // A batch in flight may have taken these already.
          if (this.queue.length > 0) void this.flush();
        });
      }
    });
  }

  /** Whether outcomes are waiting or being recorded (a batch in flight will be followed by the rest). */
  get busy(): boolean {
    return this.queue.length > 0 || this.flushing !== null;
  }

  /** Waits until everything added so far is recorded. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      await (this.flushing ?? this.flush());
    }
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushBatches().finally(() => {
      this.flushing = null;
      if (!this.busy) this.onIdle();
    });
    return this.flushing;
  }

  private async flushBatches(): Promise<void> {
    for (let first = true; this.queue.length > 0; first = false) {
      // What finished while a batch was being recorded waits for the end of this turn of the
      // event loop, as the first batch did: on SQLite a batch is recorded synchronously, and the
      // next one would otherwise hold only the few jobs that finished within a handful of
      // microtasks, a transaction each (a prefetching SQLite worker committed every 13 jobs
      // rather than every 400).
      if (!first) await nextTurn();
      const batch = this.queue;
      this.queue = [];
      try {
        const applied = await this.withRetries(batch.map((p) => p.result));
        for (const [i, p] of batch.entries()) p.resolve(applied[i] ?? false);
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  }

  private async withRetries(results: AttemptResult[]): Promise<boolean[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.record(results);
      } catch (err) {
        if (attempt >= MAX_TRIES) throw err;
        const delay = 50 * 2 ** attempt;
        this.logger.warn({ err, attempt, delay, results: results.length }, "recording outcomes failed; retrying");
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
