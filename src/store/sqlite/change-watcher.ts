/**
 * Cross-process wakeups for SQLite. Every commit by any process appends to the `-wal` file, so
 * watching it (inotify on Linux) tells an idle worker within microseconds that a commit is under
 * way, without polling the database in a tight loop. We watch the directory, not the file: the
 * WAL file is deleted and recreated when the last connection closes or on checkpoints.
 *
 * The event comes with a commit's first write, before the commit is visible: SQLite publishes it
 * in the WAL index after its last write (and after an fsync with durability "full"). A listener
 * woken by the event itself could read too soon, find nothing, and wait for the next commit (at
 * light load a worker started every hundredth job a whole enqueue gap late, ~10 ms). So an event
 * starts a short watch of the connection's `data_version`, which changes once another
 * connection's commit is visible: read after the event, then every millisecond until SETTLE_MS pass
 * without an event; listeners are woken, once per event-loop turn, when it changes. Watching is
 * an optimisation: workers keep a slow poll as a safety net, so a platform without reliable
 * watches still works.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { Wakeups } from "../wakeups.js";

/** How long after the last WAL event commits are looked for: longer than a slow disk's fsync. */
const SETTLE_MS = 100;
/**
 * For how long after the last WAL event `data_version` is read on every event-loop turn: a
 * commit is usually visible microseconds after its last write.
 */
const SPIN_MS = 0.25;
/** How often `data_version` is read after that, while settling. */
const CHECK_EVERY_MS = 1;

export class ChangeWatcher {
  private watcher: FSWatcher | null = null;
  private readonly wakeups = new Wakeups();
  private readonly walName: string;
  /** The `data_version` listeners were last woken for. */
  private seenVersion = 0;
  private lastEventAt = 0;
  /** The next read of `data_version`: after this turn's WAL events, or a millisecond after the last read. */
  private nextCheck: { immediate: NodeJS.Immediate } | { timer: NodeJS.Timeout } | null = null;

  /**
   * @param dataVersion reads `PRAGMA data_version` on this process's connection: it changes when
   *   another connection's commit becomes visible, never for this connection's own.
   * @param settleMs how long after the last WAL event to look for commits.
   */
  constructor(
    private readonly dbPath: string,
    private readonly dataVersion: () => number,
    private readonly onError: (err: Error) => void,
    private readonly settleMs = SETTLE_MS,
  ) {
    this.walName = `${basename(dbPath)}-wal`;
  }

  subscribe(listener: () => void): () => void {
    this.wakeups.add(listener);
    this.ensureWatching();
    return () => {
      if (this.wakeups.remove(listener)) this.stop();
    };
  }

  /** Wakes listeners now, for writes made by this process (no need to wait for the watch). */
  notify(): void {
    this.wakeups.notify();
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    this.cancelCheck();
  }

  private ensureWatching(): void {
    if (this.watcher) return;
    try {
      this.seenVersion = this.dataVersion();
      this.watcher = watch(dirname(this.dbPath), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === this.walName) this.walChanged();
      });
      this.watcher.on("error", (err) => {
        this.stop();
        this.onError(err);
      });
    } catch (err) {
      // No watch support here: workers fall back to their poll interval.
      this.stop();
      this.onError(err as Error);
    }
  }

  private walChanged(): void {
    this.lastEventAt = performance.now();
    // After this turn's events: the writer has usually finished its commit by then.
    if (this.nextCheck !== null && "immediate" in this.nextCheck) return;
    this.cancelCheck();
    this.nextCheck = { immediate: setImmediate(this.check) };
  }

  private cancelCheck(): void {
    if (this.nextCheck === null) return;
    if ("immediate" in this.nextCheck) clearImmediate(this.nextCheck.immediate);
    else clearTimeout(this.nextCheck.timer);
    this.nextCheck = null;
  }

  private readonly check = (): void => {
    this.nextCheck = null;
    if (this.watcher === null) return;
    let version: number;
    try {
      version = this.dataVersion();
    } catch {
      version = Number.NaN; // the connection is closing, or busy: wake listeners, who will find out
    }
    if (version !== this.seenVersion) {
      this.seenVersion = version;
      this.notify();
    }
    const quiet = performance.now() - this.lastEventAt;
    if (quiet < SPIN_MS) {
      this.nextCheck = { immediate: setImmediate(this.check) };
    } else if (quiet < this.settleMs) {
      const timer = setTimeout(this.check, CHECK_EVERY_MS);
      timer.unref();
      this.nextCheck = { timer };
    }
  };
}
