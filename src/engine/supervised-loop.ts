/**
 * Keeps a background loop alive. A body that throws is logged, counted and reported, then run
 * again after an exponential backoff (reset once it succeeds), so one bad moment (a locked
 * database, a full disk) never silently stops processing.
 */
import type { Logger } from "../core/logger.js";

export interface SupervisedLoopOptions {
  name: string;
  /** One pass of the loop. Return how long to wait before the next pass (ms). */
  body: () => Promise<number>;
  logger: Logger;
  /** Called on every failure, after it is logged; must not throw. */
  onFailure?: (err: unknown, consecutive: number) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class SupervisedLoop {
  failures = 0;
  private consecutive = 0;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private stopped = false;
  /** Set by a poke that lands while a pass is running, so it is not lost. */
  private poked = false;
  private done: Promise<void> | null = null;

  constructor(private readonly options: SupervisedLoopOptions) {}

  start(): void {
    this.done ??= this.run();
  }

  /** Runs the next pass now instead of waiting out the delay. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.poke();
    await this.done;
  }

  private async run(): Promise<void> {
    const { minBackoffMs = 100, maxBackoffMs = 10_000 } = this.options;
    while (!this.stopped) {
      this.poked = false;
      let delay: number;
      try {
        delay = await this.options.body();
        this.consecutive = 0;
      } catch (err) {
        this.failures++;
        this.consecutive++;
        delay = Math.min(maxBackoffMs, minBackoffMs * 2 ** (this.consecutive - 1));
        this.options.logger.error(
          { err, loop: this.options.name, consecutive: this.consecutive, retryInMs: delay },
          `${this.options.name} loop failed; restarting`,
        );
        this.options.onFailure?.(err, this.consecutive);
      }
      if (this.stopped) break;
      if (this.poked || delay <= 0) {
        // Let I/O and timers run between passes: a synchronous store never yields on its own.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
      });
      if (this.timer) clearTimeout(this.timer);
      this.wake = null;
    }
  }
}
