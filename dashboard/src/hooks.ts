/** Loading data from the API and keeping it fresh from the shared event stream. */
import { useCallback, useEffect, useRef, useState } from "react";
import type { OverseerEvent } from "../../src/http/contract";
import { ApiError, isAbort } from "./api/client";
import { eventStream } from "./api/event-stream";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

/**
 * Runs `load` now, whenever `key` changes, and again (at most every `throttleMs`) after events
 * that `relevant` picks arrive. The previous data stays on screen while reloading, so live
 * updates never blank the page.
 */
export function useLive<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
  relevant: (event: OverseerEvent) => boolean = () => true,
  throttleMs = 400,
): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const relevantRef = useRef(relevant);
  relevantRef.current = relevant;

  // biome-ignore lint/correctness/useExhaustiveDependencies: key and tick are what trigger a reload
  useEffect(() => {
    const controller = new AbortController();
    loadRef.current(controller.signal).then(
      (value) => {
        setData(value);
        setError(null);
      },
      (err: unknown) => {
        if (!isAbort(err)) setError(err instanceof ApiError ? err.describe() : String(err));
      },
    );
    return () => controller.abort();
  }, [key, tick]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = eventStream.subscribe((events) => {
      if (timer || !events.some((e) => relevantRef.current(e))) return;
      timer = setTimeout(() => {
        timer = null;
        setTick((t) => t + 1);
      }, throttleMs);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [throttleMs]);

  // Events were lost to retention while the stream was down: what was loaded may be stale.
  useEffect(() => eventStream.onGap(() => setTick((t) => t + 1)), []);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
