/**
 * Supervises runs: claims them from the store (a queued run, or one whose supervisor vanished)
 * up to `concurrency` at a time, and drives each with a `RunDriver` under the run's lease. The
 * claim loop wakes on store changes (a new run, a control action, on any node) and polls as a
 * fallback. `stop()` interrupts the turns cleanly (SIGTERM, SIGKILL after the grace period) and
 * hands the runs back with their state intact, so another node, or this one after a restart,
 * continues each at its next turn. It lists itself among the workers (name "run supervisor", no
 * tasks), heartbeating like one, so a node that only supervises runs shows, and its loss is seen:
 * from its start on a node configured for runs, otherwise from the first run it drives.
 */
import { hostname } from "node:os";
import { newId } from "../../core/ids.js";
import type { Logger } from "../../core/logger.js";
import type { Store } from "../../store/store.js";
import { SupervisedLoop } from "../supervised-loop.js";
import { RunDriver } from "./run-driver.js";

/** How long a burst of store changes is gathered before the runs are looked at. */
const CHANGE_GATHER_MS = 50;
/** How often the supervisor's row in `workers` is touched, so that it lists as alive. */
const PRESENCE_MS = 5_000;

export interface RunSupervisorOptions {
  store: Store;
  logger: Logger;
  /** Runs driven at once by this supervisor. Default 4. */
  concurrency?: number;
  /** How long the run stays this supervisor's without a heartbeat. Default 30 s. */
  leaseMs?: number;
  /** How often to look for runs when no change was announced. Default 1 s. */
  pollMs?: number;
  /**
   * Listed among the workers from its start (true: this node is configured for runs), or only
   * once it drives a run (false, the default: a node that may take runs over but has no profiles).
   */
  listed?: boolean;
  /** The environment the profiles' `env` allowlists pick from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  id?: string;
}

export class RunSupervisor {
  readonly id: string;
  private readonly drivers = new Map<string, RunDriver>();
  private readonly loop: SupervisedLoop;
  private unsubscribe: (() => void) | null = null;
  private changed: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private registered = false;
  private lastPresence = 0;

  constructor(private readonly options: RunSupervisorOptions) {
    this.id = options.id ?? `runs:${hostname()}:${process.pid}:${newId().slice(-6)}`;
    this.concurrency = options.concurrency ?? 4;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.loop = new SupervisedLoop({ name: "run-claim", logger: options.logger, body: () => this.claimPass() });
  }

  /** Runs this supervisor drives now. */
  get active(): number {
    return this.drivers.size;
  }

  start(): void {
    // Store changes are mostly jobs; gather a burst of them into one look at the runs.
    this.unsubscribe = this.options.store.onChange(() => {
      this.changed ??= setTimeout(() => {
        this.changed = null;
        this.loop.poke();
        for (const driver of this.drivers.values()) driver.refresh();
      }, CHANGE_GATHER_MS);
    });
    this.loop.start();
  }

  /** Stops claiming, interrupts every turn and hands the runs back (their state is kept). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    if (this.changed !== null) clearTimeout(this.changed);
    await this.loop.stop();
    await Promise.all([...this.drivers.values()].map((d) => d.shutdown()));
    if (this.registered) {
      await this.options.store
        .setWorkerStatus(this.id, "stopped")
        .catch((err: unknown) => this.options.logger.warn({ err }, "could not mark the run supervisor stopped"));
    }
  }

  /** Registers the supervisor as a worker the first time, then heartbeats it every PRESENCE_MS. */
  private async presence(): Promise<void> {
    if (!this.registered && this.options.listed !== true && this.drivers.size === 0) return;
    const now = Date.now();
    if (this.registered && now - this.lastPresence < PRESENCE_MS) return;
    this.lastPresence = now;
    if (!this.registered) {
      await this.options.store.registerWorker({
        id: this.id,
        name: "run supervisor",
        host: hostname(),
        pid: process.pid,
        queues: null,
        tasks: [],
        concurrency: this.concurrency,
      });
      this.registered = true;
    } else {
      await this.options.store.heartbeat(this.id, [], this.leaseMs);
    }
  }

  private async claimPass(): Promise<number> {
    await this.presence();
    while (!this.stopping && this.drivers.size < this.concurrency) {
      const claimed = await this.options.store.claimRun(this.id, this.leaseMs);
      if (claimed === null) break;
      const driver = new RunDriver({
        store: this.options.store,
        logger: this.options.logger,
        claimed,
        leaseMs: this.leaseMs,
        host: hostname(),
        env: this.options.env ?? process.env,
      });
      this.drivers.set(claimed.run.id, driver);
      await this.presence();
      void driver.drive().finally(() => {
        this.drivers.delete(claimed.run.id);
        this.loop.poke();
      });
    }
    return this.pollMs;
  }
}
