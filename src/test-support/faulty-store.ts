/**
 * Wraps a real store so a test can make chosen verbs misbehave the way a locked or full
 * database would: fail at once, or stall until released and then go through. Only the chosen
 * verbs change; everything else goes to the real store untouched.
 */
import type { Store } from "../store/store.js";
import { type Deferred, deferred } from "./wait.js";

export type Verb = {
  [K in keyof Store]: Store[K] extends (...args: any[]) => Promise<unknown> ? K : never;
}[keyof Store];

export interface Faults {
  /** Verbs that currently reject with a simulated database error. */
  failing: Set<Verb>;
  /** How many calls were refused, per verb. */
  refused: Map<Verb, number>;
  /** From now on, calls of `verb` wait (like a writer queued on a lock) until the returned function is called. */
  stall(verb: Verb): () => void;
  /** Calls currently waiting on a stall. */
  stalledCalls(verb: Verb): number;
}

export function withFaults(store: Store): { store: Store; faults: Faults } {
  const stalls = new Map<Verb, { gate: Deferred<void>; waiting: number }>();
  const faults: Faults = {
    failing: new Set(),
    refused: new Map(),
    stall(verb) {
      const entry = { gate: deferred(), waiting: 0 };
      stalls.set(verb, entry);
      return () => {
        if (stalls.get(verb) === entry) stalls.delete(verb);
        entry.gate.resolve();
      };
    },
    stalledCalls: (verb) => stalls.get(verb)?.waiting ?? 0,
  };
  const wrapped = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const verb = prop as Verb;
      return (...args: unknown[]) => {
        if (faults.failing.has(verb)) {
          faults.refused.set(verb, (faults.refused.get(verb) ?? 0) + 1);
          return Promise.reject(new Error(`simulated fault: ${String(prop)} failed (database is locked)`));
        }
        const stall = stalls.get(verb);
        if (stall) {
          stall.waiting++;
          return stall.gate.promise.then(() => {
            stall.waiting--;
            return value.apply(target, args);
          });
        }
        return value.apply(target, args);
      };
    },
  });
  return { store: wrapped, faults };
}
