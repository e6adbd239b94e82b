/**
 * Cross-process wakeups for SQLite. Every commit by any process appends to the `-wal` file, so
 * watching it (inotify on Linux) tells an idle worker within microseconds that something may be
 * ready, without polling the database in a tight loop. We watch the directory, not the file:
 * the WAL file is deleted and recreated when the last connection closes or on checkpoints.
 * Notifications are coalesced to at most one per event-loop turn. Watching is an optimisation:
 * workers keep a slow poll as a safety net, so a platform without reliable watches still works.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { Wakeups } from "../wakeups.js";

export class ChangeWatcher {
  private watcher: FSWatcher | null = null;
  private readonly wakeups = new Wakeups();
  private readonly walName: string;

  constructor(
    private readonly dbPath: string,
    private readonly onError: (err: Error) => void,
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
  }

  private ensureWatching(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(dirname(this.dbPath), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === this.walName) this.notify();
      });
      this.watcher.on("error", (err) => {
        this.watcher = null;
        this.onError(err);
      });
    } catch (err) {
      // No watch support here: workers fall back to their poll interval.
      this.watcher = null;
      this.onError(err as Error);
    }
  }
}
