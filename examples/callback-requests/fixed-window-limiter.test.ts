// The per-address limiter on its own: a key's places per window, a new window starting afresh,
// and the bound on the keys it holds.
import { describe, expect, it } from "vitest";
import { FixedWindowLimiter } from "./fixed-window-limiter.mjs";

const HOUR = 3_600_000;
const T = Date.parse("2030-01-07T09:00:00.000Z");

describe("FixedWindowLimiter", () => {
  it("gives a key `limit` places per window, says when the window ends, and starts afresh in the next", () => {
    const limiter = new FixedWindowLimiter({ limit: 2, windowMs: HOUR });
    expect(limiter.take("a", T)).toEqual({ allowed: true });
    expect(limiter.take("a", T + 1_000)).toEqual({ allowed: true });
    expect(limiter.take("a", T + 60_000)).toEqual({ allowed: false, retryAfterMs: HOUR - 60_000 });
    expect(limiter.take("b", T + 60_000)).toEqual({ allowed: true });
    expect(limiter.take("a", T + HOUR)).toEqual({ allowed: true });
  });

  it("refuses keys it does not know once it holds maxKeys, until the window ends", () => {
    const limiter = new FixedWindowLimiter({ limit: 5, windowMs: HOUR, maxKeys: 2 });
    expect([limiter.take("a", T), limiter.take("b", T)]).toEqual([{ allowed: true }, { allowed: true }]);
    expect(limiter.take("c", T)).toEqual({ allowed: false, retryAfterMs: HOUR });
    expect(limiter.take("a", T)).toEqual({ allowed: true }); // a key it holds goes on counting
    expect(limiter.take("c", T + HOUR)).toEqual({ allowed: true });
  });
});
