/**
 * An execution's abort. Its AbortSignal is made only when the handler reads `ctx.signal`: a
 * signal per job is costly to collect (V8 keeps it past young collections), and most handlers
 * never look at it. A worker draining no-op jobs held 25 MB of heap for them, against 9 MB
 * without. The first reason wins, as with AbortController.
 */
import type { AbortReason } from "../core/task.js";

export class ExecutionAbort {
  private controller: AbortController | null = null;
  private why: AbortReason | null = null;
  private cancelled = false;

  /** The handler's signal, made now if it was not yet, and aborted already if the execution is. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.why !== null) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  /** Why the execution was aborted, or null while it is not. */
  get reason(): AbortReason | null {
    return this.why;
  }

  /** Whether a cancel came, first or after another reason (during a timeout's grace, say). */
  get cancelRequested(): boolean {
    return this.cancelled;
  }

  abort(reason: AbortReason): void {
    if (reason === "cancelled") this.cancelled = true;
    if (this.why !== null) return;
    this.why = reason;
    this.controller?.abort(reason);
  }
}
