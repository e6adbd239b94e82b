/**
 * Rows that hold still while someone works on them. A live list reloads as events arrive; while
 * `hold` is on (the pointer or focus is in the table, rows are selected, updates are paused),
 * the rows shown keep their order and number: each is replaced by its newest copy (its state
 * stays current), rows that arrived meanwhile are only counted ("3 new — show"), and `apply`
 * shows the list as it is now. Another list (`listKey`: a new filter or page) starts afresh.
 */
import { useReducer, useRef } from "react";

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
