import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Bundler,
  type BundlerSettings,
  type BundlerState,
  EMPTY_BUNDLER_STATE,
  nextWakeAt,
  offer,
  tick,
} from "./bundler.js";
import type { Notification } from "./channel.js";

const S: BundlerSettings = { maxMessages: 3, rateWindowMs: 60_000, bundleWindowMs: 10_000, listed: 3 };

function alert(i: number, kind: Notification["kind"] = "alert"): Notification {
  return { kind, id: `a${i}`, title: `alert ${i}`, at: new Date(0).toISOString() };
}

/** Feeds arrivals (time, notification) and ticks at every wake time; returns what was sent and when. */
function simulate(
  settings: BundlerSettings,
  arrivals: Array<[number, Notification]>,
  until = Number.POSITIVE_INFINITY,
): Array<{ at: number; n: Notification }> {
  const b = new Bundler(settings);
  const sent: Array<{ at: number; n: Notification }> = [];
  const drainUntil = (t: number) => {
    for (let wake = b.nextWakeAt(); wake !== null && wake <= t; wake = b.nextWakeAt()) {
      for (const n of b.tick(wake)) sent.push({ at: wake, n });
    }
  };
  for (const [at, n] of arrivals) {
    drainUntil(at);
    for (const m of b.offer(n, at)) sent.push({ at, n: m });
  }
  drainUntil(until);
  return sent;
}

describe("bundler: leading edge", () => {
  it("sends the first notification after a quiet spell at once, as itself", () => {
    const step = offer(S, EMPTY_BUNDLER_STATE, alert(1), 1_000);
    expect(step.send).toEqual([alert(1)]);
    expect(nextWakeAt(step.state)).toBe(11_000);
  });

  it("holds what follows within the bundle window and sends it as one message when the window ends", () => {
    let st: BundlerState = offer(S, EMPTY_BUNDLER_STATE, alert(1), 0).state;
    for (let i = 2; i <= 13; i++) {
      const step = offer(S, st, alert(i), i * 100);
      expect(step.send).toEqual([]);
      st = step.state;
    }
    expect(tick(S, st, 9_999).send).toEqual([]);
    const { send, state } = tick(S, st, 10_000);
    expect(send).toHaveLength(1);
    const bundle = send[0]!;
    expect(bundle.kind).toBe("bundle");
    expect(bundle.title).toBe("12 alerts: alert 2");
    expect(bundle.details).toBe("- alert 2\n- alert 3\n- alert 4\n… and 9 more");
    expect(bundle.bundle).toEqual({ total: 12, ids: Array.from({ length: 12 }, (_, i) => `a${i + 2}`) });
    expect(bundle.at).toBe(new Date(10_000).toISOString());
    expect(bundle.id).toBe("bundle:a2:12");
    // The send opened a new window; it closes quietly when nothing arrived in it.
    expect(nextWakeAt(state)).toBe(20_000);
    const closed = tick(S, state, 20_000);
    expect(closed.send).toEqual([]);
    expect(nextWakeAt(closed.state)).toBeNull();
    expect(offer(S, closed.state, alert(99), 20_001).send).toEqual([alert(99)]);
  });

  it("a single held notification goes out as itself, buttons and all", () => {
    const approval: Notification = { ...alert(2, "approval"), actions: ["approve", "deny"] };
    const sent = simulate(S, [
      [0, alert(1)],
      [5_000, approval],
    ]);
    expect(sent).toEqual([
      { at: 0, n: alert(1) },
      { at: 10_000, n: approval },
    ]);
  });

  it("names the bundle by what it holds", () => {
    const approvals = simulate(S, [
      [0, alert(0)],
      [1, alert(1, "approval")],
      [2, alert(2, "approval")],
    ]);
    expect(approvals[1]?.n.title).toBe("2 approval requests: alert 1");
    const mixed = simulate(S, [
      [0, alert(0)],
      [1, alert(1, "approval")],
      [2, alert(2)],
    ]);
    expect(mixed[1]?.n.title).toBe("2 notifications: alert 1");
  });

  it("counts an id offered twice while held once", () => {
    const sent = simulate(S, [
      [0, alert(0)],
      [1, alert(1)],
      [2, alert(1)],
      [3, alert(2)],
    ]);
    expect(sent[1]?.n.bundle?.total).toBe(2);
  });

  it("lists none when listed is 0 but still sends a lone one as itself", () => {
    const s0 = { ...S, listed: 0 };
    const sent = simulate(s0, [
      [0, alert(0)],
      [1, alert(1)],
      [2, alert(2)],
    ]);
    expect(sent[1]?.n.details).toBe("… and 2 more");
    expect(
      simulate(s0, [
        [0, alert(0)],
        [1, alert(1)],
      ])[1]?.n,
    ).toEqual(alert(1));
  });

  it("with bundling off, sends each at once until the rate limit", () => {
    const off = { ...S, bundleWindowMs: 0 };
    const sent = simulate(
      off,
      [0, 1, 2, 3, 4].map((i): [number, Notification] => [i, alert(i)]),
    );
    expect(sent.map((s) => [s.at, s.n.id])).toEqual([
      [0, "a0"],
      [1, "a1"],
      [2, "a2"],
      [60_000, "bundle:a3:2"],
    ]);
  });
});

describe("bundler: rate limit", () => {
  it("never sends more than maxMessages in any rate window, and drops nothing", () => {
    // One alert every 10.5 s for 10 minutes: bundling alone would send one per window.
    const arrivals = Array.from({ length: 60 }, (_, i): [number, Notification] => [i * 10_500, alert(i)]);
    const sent = simulate(S, arrivals);
    assertRateLimit(S, sent);
    expect(delivered(sent)).toEqual(arrivals.map(([, n]) => n.id));
  });

  it("a message held by the rate limit waits for the oldest send to leave the window", () => {
    const off = { ...S, bundleWindowMs: 0, maxMessages: 2 };
    let st = offer(off, EMPTY_BUNDLER_STATE, alert(1), 0).state;
    st = offer(off, st, alert(2), 5_000).state;
    const held = offer(off, st, alert(3), 6_000);
    expect(held.send).toEqual([]);
    expect(nextWakeAt(held.state)).toBe(60_000);
    expect(tick(off, held.state, 59_999).send).toEqual([]);
    expect(tick(off, held.state, 60_000).send).toEqual([alert(3)]);
  });
});

describe("bundler: flood", () => {
  it("1,000 alerts in a 1-second burst become 2 messages per channel (the first, then one bundle)", () => {
    const arrivals = Array.from({ length: 1_000 }, (_, i): [number, Notification] => [i, alert(i)]);
    const sent = simulate({ maxMessages: 20, rateWindowMs: 60_000, bundleWindowMs: 15_000, listed: 5 }, arrivals);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.n).toEqual(alert(0));
    expect(sent[1]?.n.title).toBe("999 alerts: alert 1");
    expect(sent[1]?.n.details?.split("\n")).toHaveLength(6);
    expect(delivered(sent)).toHaveLength(1_000);
  });

  it("1,000 alerts over 10 minutes stay within 1 + ceil(T / bundle window) and the rate limit", () => {
    const settings: BundlerSettings = { maxMessages: 20, rateWindowMs: 60_000, bundleWindowMs: 15_000, listed: 5 };
    const arrivals = Array.from({ length: 1_000 }, (_, i): [number, Notification] => [i * 600, alert(i)]);
    const sent = simulate(settings, arrivals);
    const duration = 1_000 * 600;
    expect(sent.length).toBeLessThanOrEqual(1 + Math.ceil(duration / settings.bundleWindowMs));
    assertRateLimit(settings, sent);
    expect(delivered(sent)).toEqual(arrivals.map(([, n]) => n.id));
  });

  it("holds for any arrival pattern (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          maxMessages: fc.integer({ min: 1, max: 5 }),
          rateWindowMs: fc.integer({ min: 1, max: 10_000 }),
          bundleWindowMs: fc.integer({ min: 0, max: 5_000 }),
          listed: fc.integer({ min: 0, max: 4 }),
        }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 30 })), { maxLength: 80 }),
        (settings, gaps) => {
          let t = 0;
          const arrivals = gaps.map(([gap, id]): [number, Notification] => {
            t += gap;
            return [t, alert(id)];
          });
          const sent = simulate(settings, arrivals);
          assertRateLimit(settings, sent);
          // Every distinct arrival is delivered, and only those.
          const ids = delivered(sent);
          expect(new Set(ids)).toEqual(new Set(arrivals.map(([, n]) => n.id)));
          // Consecutive messages are at least a bundle window apart, which is what bounds a flood
          // to 1 + ceil(T / bundleWindowMs); after the last arrival at most one more goes out.
          for (let i = 1; i < sent.length; i++) {
            expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(settings.bundleWindowMs);
          }
          expect(sent.filter((s) => s.at > t).length).toBeLessThanOrEqual(1);
          // Sends happen in time order.
          for (let i = 1; i < sent.length; i++) expect(sent[i]!.at).toBeGreaterThanOrEqual(sent[i - 1]!.at);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("Bundler", () => {
  it("refuses settings that cannot work", () => {
    expect(() => new Bundler({ ...S, maxMessages: 0 })).toThrow(/maxMessages/);
    expect(() => new Bundler({ ...S, rateWindowMs: 0 })).toThrow(/rateWindowMs/);
    expect(() => new Bundler({ ...S, bundleWindowMs: -1 })).toThrow(/bundleWindowMs/);
  });
});

function delivered(sent: Array<{ n: Notification }>): string[] {
  return sent.flatMap(({ n }) => n.bundle?.ids ?? [n.id]);
}

function assertRateLimit(settings: BundlerSettings, sent: Array<{ at: number }>): void {
  for (let i = settings.maxMessages; i < sent.length; i++) {
    // The (i - max)-th send must have left the window before the i-th.
    expect(sent[i]!.at - sent[i - settings.maxMessages]!.at).toBeGreaterThanOrEqual(settings.rateWindowMs);
  }
}
