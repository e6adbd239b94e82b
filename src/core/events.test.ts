import { describe, expect, it } from "vitest";
import { OverseerError } from "./errors.js";
import { assertEventKind, defineEventKind, isEventKind } from "./events.js";

/** Every kind the stores and the engine append; each must be known before anyone defines more. */
const BUILT_IN = [
  "job.enqueued",
  "job.started",
  "job.progress",
  "job.log",
  "job.succeeded",
  "job.failed",
  "job.retry_scheduled",
  "job.dead",
  "job.cancel_requested",
  "job.cancelled",
  "job.lost",
  "job.released",
  "job.throttled",
  "job.retried",
  "job.discarded",
  "job.parked",
  "job.signalled",
  "job.requeued",
  "signal.received",
  "queue.paused",
  "queue.resumed",
  "worker.started",
  "worker.stopped",
  "worker.lost",
  "worker.loop_failed",
  "token.created",
  "token.revoked",
  "run.queued",
  "run.started",
  "run.output",
  "run.completed",
  "claim.taken",
  "claim.released",
];

/** The registry is process-wide: each test defines kinds under its own prefix. */
let counter = 0;
const fresh = (stem: string) => `test${++counter}.${stem}`;

describe("built-in event kinds", () => {
  it.each(BUILT_IN)("%s is known", (kind) => {
    expect(isEventKind(kind)).toBe(true);
    expect(() => assertEventKind(kind)).not.toThrow();
  });
});

describe("assertEventKind", () => {
  it.each(["job.enqueue", "JOB.ENQUEUED", "job.enqueued ", "", "job", "run.begun", "toString", "__proto__"])(
    "rejects %j with UNKNOWN_EVENT_KIND",
    (kind) => {
      let err: unknown;
      try {
        assertEventKind(kind);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OverseerError);
      expect((err as OverseerError).code).toBe("UNKNOWN_EVENT_KIND");
      expect((err as OverseerError).details.kind).toBe(kind);
      expect(isEventKind(kind)).toBe(false);
    },
  );

  it("tells how to fix it", () => {
    expect(() => assertEventKind("nope.nope")).toThrow(/defineEventKind/);
  });
});

describe("defineEventKind", () => {
  it("makes a kind known", () => {
    const kind = fresh("started");
    expect(isEventKind(kind)).toBe(false);
    defineEventKind(kind);
    expect(isEventKind(kind)).toBe(true);
    expect(() => assertEventKind(kind)).not.toThrow();
  });

  it("is idempotent", () => {
    const kind = fresh("twice");
    defineEventKind(kind);
    defineEventKind(kind);
    expect(isEventKind(kind)).toBe(true);
  });

  it.each(["a.b", "run.step_done", "approval.granted.by_owner", "x1.y2"])("accepts %s", (kind) => {
    expect(() => defineEventKind(kind)).not.toThrow();
  });

  it.each([
    "",
    "run",
    "Run.started",
    "run.Started",
    "run.",
    ".started",
    "1run.started",
    "run.1started",
    "run-x.started",
    "run.started!",
    "run started",
    "run..started",
  ])("rejects the malformed kind %j with INVALID_ARGUMENT and registers nothing", (kind) => {
    let err: unknown;
    try {
      defineEventKind(kind);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe("INVALID_ARGUMENT");
    expect((err as OverseerError).details.field).toBe("kind");
    expect(isEventKind(kind)).toBe(false);
  });
});
