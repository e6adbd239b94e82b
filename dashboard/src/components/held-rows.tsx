/**
 * Rows that hold still while someone works on them. A live list reloads as events arrive; while
 * `hold` is on (the pointer or focus is in the table, rows are selected, updates are paused),
 * the rows shown keep their order and number: each is replaced by its newest copy (its state
 * stays current), rows that arrived meanwhile are only counted ("3 new — show"), and `apply`
 * shows the list as it is now. Another list (`listKey`: a new filter or page) starts afresh.
 */
import { type FocusEvent, useEffect, useReducer, useRef, useState } from "react";

export interface HeldRows<T> {
  shown: readonly T[] | null;
  /** Rows loaded but not shown. */
  fresh: number;
  apply: () => void;
}

export function useHeldRows<T>(
  rows: readonly T[] | null,
  rowKey: (row: T) => string,
  hold: boolean,
  listKey: string,
): HeldRows<T> {
  const snapshot = useRef<readonly T[] | null>(null);
  const lastShown = useRef<readonly T[] | null>(null);
  const heldKey = useRef(listKey);
  /** The previous list's rows, still loaded while the new list's are on their way: never held. */
  const stale = useRef<readonly T[] | null>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  if (heldKey.current !== listKey) {
    heldKey.current = listKey;
    snapshot.current = null;
    lastShown.current = null;
    stale.current = rows;
  }
  if (stale.current !== null && rows !== stale.current) stale.current = null;
  if (!hold || rows === null || rows === stale.current) snapshot.current = null;
  else if (snapshot.current === null) snapshot.current = lastShown.current ?? rows;
  let shown = rows;
  let fresh = 0;
  if (snapshot.current !== null && rows !== null) {
    const latest = new Map(rows.map((r) => [rowKey(r), r]));
    const held = new Set(snapshot.current.map(rowKey));
    shown = snapshot.current.map((r) => latest.get(rowKey(r)) ?? r);
    fresh = rows.filter((r) => !held.has(rowKey(r))).length;
  }
  lastShown.current = shown;
  const apply = () => {
    snapshot.current = rows;
    rerender();
  };
  return { shown, fresh, apply };
}

/** How long rows stay held after the pointer leaves them: time to reach the "N new — show" button. */
const RELEASE_MS = 1500;

/**
 * Whether the pointer or the focus is in a list, with the handlers for the element around it.
 * Leaving with the pointer releases the hold only after RELEASE_MS, so that a list does not
 * change while the pointer travels from it to the controls above it.
 */
export function usePointerHold(): {
  held: boolean;
  handlers: {
    onPointerEnter: () => void;
    onPointerLeave: () => void;
    onFocus: () => void;
    onBlur: (e: FocusEvent<HTMLElement>) => void;
  };
} {
  const [held, setHeld] = useState(false);
  const release = useRef<ReturnType<typeof setTimeout> | null>(null);
  const cancelRelease = () => {
    if (release.current !== null) clearTimeout(release.current);
    release.current = null;
  };
  // A pending release must not fire after the list is gone.
  useEffect(
    () => () => {
      if (release.current !== null) clearTimeout(release.current);
    },
    [],
  );
  return {
    held,
    handlers: {
      onPointerEnter: () => {
        cancelRelease();
        setHeld(true);
      },
      onPointerLeave: () => {
        cancelRelease();
        release.current = setTimeout(() => setHeld(false), RELEASE_MS);
      },
      onFocus: () => {
        cancelRelease();
        setHeld(true);
      },
      onBlur: (e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setHeld(false);
      },
    },
  };
}

/** A held list's controls: pause its updates, and show the rows that arrived meanwhile. */
export function HoldControls({
  paused,
  onPause,
  fresh,
  onShow,
}: {
  paused: boolean;
  onPause: (paused: boolean) => void;
  fresh: number;
  onShow: () => void;
}) {
  return (
    <>
      <button type="button" aria-pressed={paused} onClick={() => onPause(!paused)}>
        {paused ? "Resume updates" : "Pause updates"}
      </button>
      {fresh > 0 && (
        <button type="button" className="fresh-rows" onClick={onShow}>
          {fresh} new — show
        </button>
      )}
    </>
  );
}
