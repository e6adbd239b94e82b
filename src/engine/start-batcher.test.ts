import { afterEach, describe, expect, it, vi } from "vitest";
import type { JobError, Lease } from "../core/types.js";
import { msSince, START_RECORD_DELAY_MS, StartBatcher, startMode } from "./start-batcher.js";

const lease = (jobId: string, token = 1): Lease => ({
  jobId,
  workerId: "w",
  token,
  expiresAt: "2030-01-01T00:00:00.000Z",
});
const error = (code: string): JobError => ({ code, message: code, retryable: true });

describe("startMode", () => {
  const LEASE = 30_000;

  it("records later while the lease was confirmed less than half a lease ago", () => {
    expect(startMode({ lastError: null }, 0, LEASE)).toBe("later");
    expect(startMode({ lastError: null }, 14_999, LEASE)).toBe("later");
    expect(startMode({ lastError: error("HANDLER_ERROR") }, 100, LEASE)).toBe("later");
  });

  it("records first once the lease may be near its end: the record then checks it still holds", () => {
    expect(startMode({ lastError: null }, 15_000, LEASE)).toBe("first");
    expect(startMode({ lastError: null }, 60_000, LEASE)).toBe("first");
  });

  it("records first for a job whose last lease expired, however fresh this one", () => {
    expect(startMode({ lastError: error("LEASE_EXPIRED") }, 0, LEASE)).toBe("first");
  });
});

describe("msSince", () => {
  it("is the longer of what the monotonic clock and the wall clock say: a suspended machine's monotonic clock stands still", () => {
    expect(msSince({ monotonic: performance.now(), wall: Date.now() - 60_000 })).toBeGreaterThanOrEqual(60_000);
    expect(msSince({ monotonic: performance.now() - 60_000, wall: Date.now() })).toBeGreaterThanOrEqual(60_000);
    // A wall clock set back does not make a lease look younger than the monotonic clock says.
    expect(msSince({ monotonic: performance.now() - 1_000, wall: Date.now() + 60_000 })).toBeGreaterThanOrEqual(1_000);
  });
});

describe("StartBatcher", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function batcher(running: (l: Lease) => boolean = () => true, started?: (ls: Lease[]) => string[]) {
    const calls: string[][] = [];
    const failed: string[][] = [];
    const b = new StartBatcher(
      async (leases) => {
        calls.push(leases.map((l) => l.jobId));
        if (started === undefined) return leases.map((l) => l.jobId);
        return started(leases);
      },
      {
        running,
        failed: (_err, leases) => failed.push(leases.map((l) => l.jobId)),
      },
    );
    return { b, calls, failed };
  }

  it("first: records the starts added in one turn of the event loop together, and answers each", async () => {
    const { b, calls } = batcher(undefined, (leases) => leases.filter((l) => l.jobId !== "gone").map((l) => l.jobId));
    expect(await Promise.all([b.first(lease("a")), b.first(lease("gone")), b.first(lease("c"))])).toEqual([
      true,
      false,
      true,
    ]);
    expect(calls).toEqual([["a", "gone", "c"]]);
  });

  it("later: records nothing at once, then, after the delay, the starts of the jobs still running", async () => {
    vi.useFakeTimers();
    const ended = new Set(["b"]);
    const { b, calls } = batcher((l) => !ended.has(l.jobId));
    b.later(lease("a"));
    b.later(lease("b"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS - 1);
    expect(calls).toEqual([]);
    b.later(lease("c"));
    await vi.advanceTimersByTimeAsync(1);
    // One batch for the window, the job that ended meanwhile left out: its outcome records the attempt.
    expect(calls).toEqual([["a", "c"]]);
    b.later(lease("d"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS);
    expect(calls).toEqual([["a", "c"], ["d"]]);
  });

  it("later: a failed record is reported, and not retried", async () => {
    vi.useFakeTimers();
    const failed: string[][] = [];
    let calls = 0;
    const b = new StartBatcher(
      async () => {
        calls++;
        throw new Error("connection reset");
      },
      { running: () => true, failed: (_e, ls) => failed.push(ls.map((l) => l.jobId)) },
    );
    b.later(lease("a"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS * 3);
    expect(failed).toEqual([["a"]]);
    expect(calls).toBe(1);
  });

  it("flushLater waits for every batch of later starts the timer sent already, whichever answers first", async () => {
    vi.useFakeTimers();
    const answers: Array<() => void> = [];
    const b = new StartBatcher(
      (leases) =>
        new Promise((resolve) => {
          answers.push(() => resolve(leases.map((l) => l.jobId)));
        }),
      { running: () => true, failed: () => undefined },
    );
    b.later(lease("a"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS);
    b.later(lease("b"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS);
    expect(answers).toHaveLength(2);
    let flushed = false;
    const flushing = b.flushLater().then(() => {
      flushed = true;
    });
    answers[1]?.();
    await vi.advanceTimersByTimeAsync(1);
    expect(flushed).toBe(false);
    answers[0]?.();
    await flushing;
    expect(flushed).toBe(true);
  });

  it("flushLater records the waiting starts at once, and the timer then records nothing more", async () => {
    vi.useFakeTimers();
    const { b, calls } = batcher();
    b.later(lease("a"));
    await b.flushLater();
    expect(calls).toEqual([["a"]]);
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS * 2);
    expect(calls).toEqual([["a"]]);
    await b.flushLater();
    expect(calls).toEqual([["a"]]);
  });
});
