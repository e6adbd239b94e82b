/**
 * The signed-in token: kept in sessionStorage (this tab, until it closes), checked with
 * GET /api/v1/whoami, and what its scope allows. Pages ask `allows(...)`, never compare scopes.
 */

import type { Scope, Whoami } from "../../src/http/contract";
import { ApiError, api, setApiToken } from "./api/client";
import { eventStream } from "./api/event-stream";

const KEY = "overseer.token";

export type Action =
  | "retry"
  | "cancel"
  | "pause"
  | "discard"
  | "schedule"
  | "controlRun"
  | "messageRun"
  | "rerunRun"
  | "decide"
  | "alert"
  | "oncall";

const NEEDS: Record<Action, Scope> = {
  retry: "operator",
  cancel: "operator",
  pause: "operator",
  discard: "admin",
  schedule: "operator",
  /** Pause, resume or cancel a run. (Starting one needs admin; the form lets the server say so.) */
  controlRun: "operator",
  /** Send a run a message for its next turn. */
  messageRun: "operator",
  /** Start a finished run again: like starting one, it runs a command on the server. */
  rerunRun: "admin",
  /** Approve or deny a request. (Whether this token is among its approvers, the server says.) */
  decide: "operator",
  /** Acknowledge, escalate or close an alert. */
  alert: "operator",
  /** Put someone on call in a rotation's place, or cancel an override. */
  oncall: "operator",
};

/** Why the token may not do `action`, or null when it may. */
export function deniedReason(who: Whoami | null, action: Action): string | null {
  if (!who) return "sign in first";
  const need = NEEDS[action];
  const ok = who.scope === "admin" || (need === "operator" && who.scope === "operator");
  return ok ? null : `needs an ${need} token; "${who.name}" is ${who.scope}`;
}

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** Checks a token and keeps it; throws a message a person can act on. */
export async function signIn(token: string): Promise<Whoami> {
  const trimmed = token.trim();
  if (!trimmed) throw new Error("Paste a token first.");
  let who: Whoami;
  try {
    who = await api<Whoami>("/whoami", { token: trimmed });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401)
      throw new Error("That token was not accepted: it is unknown, revoked or mistyped.");
    if (err instanceof ApiError && err.status === 403)
      throw new Error(
        "That token cannot read the API (a metrics token reads only /metrics). Use a viewer, operator or admin token.",
      );
    throw err;
  }
  sessionStorage.setItem(KEY, trimmed);
  setApiToken(trimmed);
  return who;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  setApiToken(null);
  eventStream.reset();
}
