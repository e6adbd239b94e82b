import { afterEach, describe, expect, it, vi } from "vitest";
import type { JobError, Lease } from "../core/types.js";
import { START_RECORD_DELAY_MS, StartBatcher, startMode } from "./start-batcher.js";

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

describe("StartBatcher", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function batcher(running: (l: Lease) => boolean = () => true, started?: (ls: Lease[]) => string[]) {
    const calls: string[][] = [];
    const lost: string[] = [];
    const failed: string[][] = [];
    const b = new StartBatcher(
      async (leases) => {
        calls.push(leases.map((l) => l.jobId));
        if (started === undefined) return leases.map((l) => l.jobId);
        return started(leases);
      },
      {
        running,
        lost: (l) => lost.push(l.jobId),
        failed: (_err, leases) => failed.push(leases.map((l) => l.jobId)),
      },
    );
    return { b, calls, lost, failed };
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
    const { b, calls, lost } = batcher((l) => !ended.has(l.jobId));
    b.later(lease("a"));
    b.later(lease("b"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS - 1);
    expect(calls).toEqual([]);
    b.later(lease("c"));
    await vi.advanceTimersByTimeAsync(1);
    // One batch for the window, the job that ended meanwhile left out: its outcome records the attempt.
    expect(calls).toEqual([["a", "c"]]);
    expect(lost).toEqual([]);
    b.later(lease("d"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS);
    expect(calls).toEqual([["a", "c"], ["d"]]);
  });

  it("later: a start that finds the lease gone reports the job lost", async () => {
    vi.useFakeTimers();
    const { b, lost } = batcher(undefined, (leases) => leases.filter((l) => l.jobId === "kept").map((l) => l.jobId));
    b.later(lease("kept"));
    b.later(lease("taken"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS);
    expect(lost).toEqual(["taken"]);
  });

  it("later: a failed record is reported, and nothing is retried or lost", async () => {
    vi.useFakeTimers();
    const failed: string[][] = [];
    const lost: string[] = [];
    const b = new StartBatcher(
      async () => {
        throw new Error("connection reset");
      },
      { running: () => true, lost: (l) => lost.push(l.jobId), failed: (_e, ls) => failed.push(ls.map((l) => l.jobId)) },
    );
    b.later(lease("a"));
    await vi.advanceTimersByTimeAsync(START_RECORD_DELAY_MS);
    expect(failed).toEqual([["a"]]);
    expect(lost).toEqual([]);
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
