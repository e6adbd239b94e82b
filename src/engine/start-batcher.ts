/**
 * Records held jobs' starts in batches: every held job that takes a free slot in one turn of the
 * event loop has its start committed in one transaction, before its handler runs. Until that
 * commit an expired lease hands the job back uncounted; from it on, the attempt counts. Batches
 * do not wait for each other: they touch different jobs, and a handler waits for its own only.
 */
import type { Lease } from "../core/types.js";

/** Records a batch of starts; resolves with the ids of the jobs whose lease still held. */
export type RecordStarts = (leases: Lease[]) => Promise<string[]>;

interface Pending {
  lease: Lease;
  resolve: (started: boolean) => void;
  reject: (err: unknown) => void;
}

export class StartBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly record: RecordStarts) {}

  /** Resolves with whether the start was recorded (false: the lease is gone; do not run the job). */
  add(lease: Lease): Promise<boolean> {
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
