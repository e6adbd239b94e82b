/**
 * Which control buttons a run's state allows, so the run page offers only what the server would
 * accept. A copy of `controlAction` in src/core/run-state.ts (the server stays the judge: a stale
 * page still gets its 409 and shows it); `src/http/dashboard-runs.e2e.test.ts` checks that both
 * agree in every state.
 */
import { FINISHED_RUN_STATES, type RunState } from "../../src/http/contract";

export type RunControl = "pause" | "pauseNow" | "resume" | "cancel";

export const RUN_CONTROLS: ReadonlyArray<{ control: RunControl; label: string }> = [
  { control: "pause", label: "Pause" },
  { control: "pauseNow", label: "Pause now" },
  { control: "resume", label: "Resume" },
  { control: "cancel", label: "Cancel" },
];

/** The request body a control sends to POST /runs/:id/control. */
export function controlBody(control: RunControl): { action: "pause" | "resume" | "cancel"; immediate?: boolean } {
  return control === "pauseNow" ? { action: "pause", immediate: true } : { action: control };
}

/** Why `control` is refused in `state` (the server's words), or null when it is allowed. */
export function controlRefusal(state: RunState, control: RunControl): string | null {
  const { action, immediate } = controlBody(control);
  if (FINISHED_RUN_STATES.includes(state)) {
    return `cannot ${action} the run: it has already finished (${state}); start a new run instead`;
  }
  if (state === "cancelling") {
    return action === "cancel"
      ? "the run is already being cancelled; it will be cancelled once its processes have stopped"
      : `cannot ${action} the run: it is being cancelled`;
  }
  // A waiting run has no process to pause or resume; a cancel ends it with its pending request.
  if (state === "waiting" && action !== "cancel") {
    return `cannot ${action} the run: it is waiting for an answer to its request, which holds no process; answer the request, or cancel the run`;
  }
  switch (action) {
    case "pause":
      if (state === "queued") return "cannot pause the run: it has not started yet; cancel it instead";
      if (state === "paused") return "the run is already paused";
      if (!immediate && state === "pausing") {
        return "the run is already pausing at the end of its turn; ask with immediate to pause it now";
      }
      return null;
    case "resume":
      if (state === "queued") return "cannot resume the run: it has not started yet";
      if (state === "running") return "the run is already running";
      return null;
    case "cancel":
      return null;
  }
}
