import { describe, expect, test } from "vitest";
import { ExecutionAbort } from "./execution-abort.js";

describe("ExecutionAbort", () => {
  test("is not aborted until asked, and its signal says the same", () => {
    const abort = new ExecutionAbort();
    expect(abort.reason).toBeNull();
    expect(abort.signal.aborted).toBe(false);
    expect(abort.signal).toBe(abort.signal);
  });

  test("a signal read before the abort fires once, with the reason", () => {
    const abort = new ExecutionAbort();
    const signal = abort.signal;
    const heard: unknown[] = [];
    signal.addEventListener("abort", () => heard.push(signal.reason));
    abort.abort("cancelled");
    expect(abort.reason).toBe("cancelled");
    expect(signal.aborted).toBe(true);
    expect(heard).toEqual(["cancelled"]);
  });

  test("a signal first read after the abort is aborted already, with the reason", () => {
    const abort = new ExecutionAbort();
    abort.abort("lease_lost");
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe("lease_lost");
  });

  test("the first reason wins, read before or after", () => {
    const early = new ExecutionAbort();
    const signal = early.signal;
    early.abort("shutdown");
    early.abort("cancelled");
    expect([early.reason, signal.reason]).toEqual(["shutdown", "shutdown"]);

    const late = new ExecutionAbort();
    late.abort("parked");
    late.abort("shutdown");
    expect([late.reason, late.signal.reason]).toEqual(["parked", "parked"]);
  });
});
