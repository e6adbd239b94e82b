/**
 * The listeners of a store's cross-process wakeups (SQLite's WAL watch, PostgreSQL's LISTEN):
 * however many signals arrive in one event-loop turn, each listener is called once, after it.
 */
export class Wakeups {
  private readonly listeners = new Set<() => void>();
  private pending = false;

  get empty(): boolean {
    return this.listeners.size === 0;
  }

  add(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Returns whether no listener is left. */
  remove(listener: () => void): boolean {
    this.listeners.delete(listener);
    return this.empty;
  }

  /** Calls every listener on the next turn of the event loop, once, however often it is asked. */
  notify(): void {
    if (this.pending || this.empty) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      for (const listener of this.listeners) listener();
    });
  }
}
