/**
 * Times that tick on their own: "12s ago", "in 4m 10s". Every <RelativeTime> on every page reads
 * one shared clock, which runs a single one-second timer while anything shows a relative time
 * and none when nothing does, so a table of a hundred rows costs one timer, not a hundred.
 */
import { useSyncExternalStore } from "react";
import { duration } from "./common";

const TICK_MS = 1000;
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
let now = Date.now();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** The shared clock's time (epoch ms), re-rendering the caller on each tick. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

/**
 * How long ago `at` was ("12s ago"), or how long until it ("in 4m 10s") when it is ahead, kept
 * current by the shared clock; the exact time is its tooltip. "—" for no time.
 */
export function RelativeTime({ at, bare = false }: { at: string | null; bare?: boolean }) {
  const current = useNow();
  if (!at) return <span className="muted">—</span>;
  const t = Date.parse(at);
  const ahead = t - current > 500;
  const span = duration(Math.abs(current - t));
  const text = bare ? span : ahead ? `in ${span}` : `${span} ago`;
  return (
    <time dateTime={at} title={new Date(t).toISOString()}>
      {text}
    </time>
  );
}
