/**
 * Records held jobs' starts, in batches. A held job (claimed ahead of a free slot) is charged an
 * attempt only once its start is recorded: until then an expired lease hands it back uncounted.
 *
 * Most starts are recorded after the handler has begun (`later`): the job runs on the lease its
 * claim took and its heartbeats keep, exactly as a running job goes on (a lease found gone is the
 * heartbeat's to report, as for any running job), and its start is written within `delayMs`, with
 * the others of that window, unless the job has ended or parked by then (its outcome records the
 * attempt). Short jobs so cost no start at all. A job whose start must be committed before its
 * handler runs (`first`, see `startMode`) waits for its own batch, flushed in the next turn of the
 * event loop. Batches do not wait for each other: they touch different jobs.
 */
import type { Job, Lease } from "../core/types.js";

/** Records a batch of starts; resolves with the ids of the jobs whose lease still held. */
export type RecordStarts = (leases: Lease[]) => Promise<string[]>;

/** How long after its handler began, at most, a held job's start is recorded, when it is recorded later. */
export const START_RECORD_DELAY_MS = 50;

/** A moment on both clocks: the monotonic one, and the wall clock, which goes on while the machine sleeps. */
export interface Stamp {
  monotonic: number;
  wall: number;
}

export const stamp = (): Stamp => ({ monotonic: performance.now(), wall: Date.now() });

/** Milliseconds since `s`, the longer of what the two clocks say (a suspended machine's monotonic clock stands still). */
export const msSince = (s: Stamp): number => Math.max(performance.now() - s.monotonic, Date.now() - s.wall);

/**
 * How a held job that takes a slot starts: `first` records its start before the handler runs;
 * `later` runs the handler at once and records the start within `START_RECORD_DELAY_MS`.
 *
 * `later` needs a lease this worker knows to hold for a while yet: confirmed (by the claim or a
 * heartbeat, timed from before the request was sent) less than half a lease ago. And a job whose
 * last lease expired (its worker died or stalled while holding or running it) starts `first`:
 * if its handler was what killed that worker, the next death is charged, so a job that kills its
 * worker every time still ends, while a job that never ran is never charged.
 */
export function startMode(job: Pick<Job, "lastError">, confirmedMsAgo: number, leaseMs: number): "first" | "later" {
  if (job.lastError?.code === "LEASE_EXPIRED") return "first";
  return confirmedMsAgo < leaseMs / 2 ? "later" : "first";
}

export interface StartBatcherOptions {
  /** Whether the job of a start recorded later still runs here under that lease (if not, it needs no start). */
  running: (lease: Lease) => boolean;
  /** Recording later starts failed (nothing waits for them): those jobs run on, their starts unrecorded. */
  failed: (err: unknown, leases: readonly Lease[]) => void;
  delayMs?: number;
}

interface Pending {
  lease: Lease;
  resolve: (started: boolean) => void;
  reject: (err: unknown) => void;
}

export class StartBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private laterQueue: Lease[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The later starts being recorded now. */
  private readonly recording = new Set<Promise<void>>();
  private readonly delayMs: number;

  constructor(
    private readonly record: RecordStarts,
    private readonly options: StartBatcherOptions,
  ) {
    this.delayMs = options.delayMs ?? START_RECORD_DELAY_MS;
  }

  /** Records the start before the handler runs: resolves with whether it was recorded (false: the lease is gone; do not run the job). */
  first(lease: Lease): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ lease, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  /** Records the start of a job whose handler runs now, within `delayMs`, if it still runs then. */
  later(lease: Lease): void {
    this.laterQueue.push(lease);
    if (this.timer === null) {
      this.timer = setTimeout(() => void this.flushLater(), this.delayMs);
      this.timer.unref();
    }
  }

  /**
   * Records the later starts waiting now, at once, and waits for those being recorded already (a
   * stopping worker, before it closes its store).
   */
  async flushLater(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.laterQueue.filter(this.options.running);
    this.laterQueue = [];
    if (batch.length > 0) {
      const recording: Promise<void> = this.record(batch)
        .then(
          () => undefined,
          (err: unknown) => this.options.failed(err, batch),
        )
        .catch(() => undefined)
        .finally(() => this.recording.delete(recording));
      this.recording.add(recording);
    }
    await Promise.all(this.recording);
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      const started = new Set(await this.record(batch.map((p) => p.lease)));
      for (const p of batch) p.resolve(started.has(p.lease.jobId));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
