/**
 * Rate limits and bundling for one channel, as pure functions over plain state: `offer` a
 * notification, `tick` when `nextWakeAt` comes, and send what they return. No clock and no
 * I/O inside; the caller passes `now` (milliseconds) and keeps the state.
 *
 * Bundling is leading-edge: after a quiet spell the first notification goes out at once (a
 * page should not wait), and everything arriving in the next `bundleWindowMs` is held and
 * sent as one message when the window ends ("12 alerts: ..."), which opens the next window.
 * The rate limit is a sliding window: never more than `maxMessages` sent in any
 * `rateWindowMs`; a message that would exceed it waits (merging with later arrivals) and is
 * never dropped.
 *
 * The bound this gives, per channel: a burst arriving within one bundle window becomes at most
 * 2 messages; a flood lasting T ms becomes at most 1 + ceil(T / bundleWindowMs) messages, and
 * never more than `maxMessages` per `rateWindowMs`.
 */
import type { Notification } from "./channel.js";

export interface BundlerSettings {
  /** At most this many messages ... */
  maxMessages: number;
  /** ... in any window of this many milliseconds. */
  rateWindowMs: number;
  /** Hold what arrives this long after a message and send it as one; 0 turns bundling off. */
  bundleWindowMs: number;
  /** How many summaries a bundle lists before "and N more". */
  listed: number;
}

export const DEFAULT_BUNDLER_SETTINGS: BundlerSettings = {
  maxMessages: 20,
  rateWindowMs: 60_000,
  bundleWindowMs: 15_000,
  listed: 5,
};

export interface BundlerState {
  /** When each message still inside the rate window was sent, oldest first. */
  readonly sentAt: readonly number[];
  /** Held notifications: the first `listed` in full (the rest only count). */
  readonly held: readonly Notification[];
  /** Ids of everything held, in arrival order, without duplicates. */
  readonly heldIds: readonly string[];
  /** When the current bundle window ends; null when quiet (the next arrival goes at once). */
  readonly windowEndsAt: number | null;
}

export interface BundlerStep {
  state: BundlerState;
  /** Messages to send now, in order. */
  send: Notification[];
}

export const EMPTY_BUNDLER_STATE: BundlerState = { sentAt: [], held: [], heldIds: [], windowEndsAt: null };

/** A notification arrives. */
export function offer(settings: BundlerSettings, state: BundlerState, n: Notification, now: number): BundlerStep {
  // Anything due first (a window that ended), so order is kept.
  const due = tick(settings, state, now);
  state = due.state;
  if (state.heldIds.includes(n.id)) return due; // already waiting to go out: say it once
  const quiet = state.windowEndsAt === null && state.heldIds.length === 0;
  const sentAt = prune(settings, state.sentAt, now);
  if (quiet && sentAt.length < settings.maxMessages) {
    return {
      state: {
        ...state,
        sentAt: [...sentAt, now],
        windowEndsAt: settings.bundleWindowMs > 0 ? now + settings.bundleWindowMs : null,
      },
      send: [...due.send, n],
    };
  }
  // The first one is always kept in full: if it stays alone it goes out as itself.
  const keep = Math.max(1, settings.listed);
  const held: BundlerState = {
    ...state,
    sentAt,
    windowEndsAt: state.windowEndsAt ?? now,
    held: state.held.length < keep ? [...state.held, n] : state.held,
    heldIds: [...state.heldIds, n.id],
  };
  // Settles when a rate-limited message may go (tick moves windowEndsAt to that moment).
  const settled = tick(settings, held, now);
  return { state: settled.state, send: [...due.send, ...settled.send] };
}

/** Time passes: sends what is held once its window has ended and the rate limit allows. */
export function tick(settings: BundlerSettings, state: BundlerState, now: number): BundlerStep {
  const sentAt = prune(settings, state.sentAt, now);
  if (state.windowEndsAt === null || now < state.windowEndsAt) return { state: { ...state, sentAt }, send: [] };
  if (state.heldIds.length === 0) return { state: { ...state, sentAt, windowEndsAt: null }, send: [] };
  if (sentAt.length >= settings.maxMessages) {
    // Wait until the oldest message leaves the rate window; arrivals keep joining meanwhile.
    return { state: { ...state, sentAt, windowEndsAt: (sentAt[0] as number) + settings.rateWindowMs }, send: [] };
  }
  const message = state.heldIds.length === 1 ? (state.held[0] as Notification) : bundleOf(settings, state, now);
  return {
    state: {
      sentAt: [...sentAt, now],
      held: [],
      heldIds: [],
      windowEndsAt: settings.bundleWindowMs > 0 ? now + settings.bundleWindowMs : null,
    },
    send: [message],
  };
}

/** When `tick` may next send something or close a window; null when there is nothing to wait for. */
export function nextWakeAt(state: BundlerState): number | null {
  return state.windowEndsAt;
}

function prune(settings: BundlerSettings, sentAt: readonly number[], now: number): readonly number[] {
  let i = 0;
  while (i < sentAt.length && (sentAt[i] as number) <= now - settings.rateWindowMs) i++;
  return i === 0 ? sentAt : sentAt.slice(i);
}

/** "12 alerts: <first summary>", the first few summaries listed, and a count of the rest. */
function bundleOf(settings: BundlerSettings, state: BundlerState, now: number): Notification {
  const total = state.heldIds.length;
  const listed = state.held.slice(0, settings.listed);
  const kinds = new Set(state.held.map((n) => n.kind));
  const noun =
    kinds.size === 1 && kinds.has("alert")
      ? "alerts"
      : kinds.size === 1 && kinds.has("approval")
        ? "approval requests"
        : "notifications";
  const lines = listed.map((n) => `- ${n.title}`);
  if (total > listed.length) lines.push(`… and ${total - listed.length} more`);
  return {
    kind: "bundle",
    id: `bundle:${state.heldIds[0]}:${total}`,
    title: `${total} ${noun}: ${listed[0]?.title ?? ""}`.trimEnd(),
    details: lines.join("\n"),
    at: new Date(now).toISOString(),
    bundle: { total, ids: [...state.heldIds] },
  };
}

/** The same functions over state it keeps itself: what a dispatcher holds per channel. */
export class Bundler {
  #state: BundlerState = EMPTY_BUNDLER_STATE;

  constructor(readonly settings: BundlerSettings = DEFAULT_BUNDLER_SETTINGS) {
    if (!(settings.maxMessages >= 1)) throw new RangeError("maxMessages must be at least 1");
    if (!(settings.rateWindowMs > 0)) throw new RangeError("rateWindowMs must be positive");
    if (!(settings.bundleWindowMs >= 0)) throw new RangeError("bundleWindowMs must not be negative");
  }

  get state(): BundlerState {
    return this.#state;
  }

  offer(n: Notification, now: number): Notification[] {
    const step = offer(this.settings, this.#state, n, now);
    this.#state = step.state;
    return step.send;
  }

  tick(now: number): Notification[] {
    const step = tick(this.settings, this.#state, now);
    this.#state = step.state;
    return step.send;
  }

  nextWakeAt(): number | null {
    return nextWakeAt(this.#state);
  }
}
