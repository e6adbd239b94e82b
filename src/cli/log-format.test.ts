import { describe, expect, it } from "vitest";
import { isOverseerError } from "../core/errors.js";
import { chooseLogFormat, formatLogRecord } from "./log-format.js";

describe("the CLI's log format", () => {
  it("is text in a terminal and JSON otherwise, unless --log-format says", () => {
    expect(chooseLogFormat(undefined, true)).toBe("text");
    expect(chooseLogFormat(undefined, false)).toBe("json");
    expect(chooseLogFormat(undefined, undefined)).toBe("json");
    expect(chooseLogFormat("json", true)).toBe("json");
    expect(chooseLogFormat("text", false)).toBe("text");
    let caught: unknown;
    try {
      chooseLogFormat("pretty", true);
    } catch (err) {
      caught = err;
    }
    expect(isOverseerError(caught, "INVALID_ARGUMENT")).toBe(true);
    expect((caught as Error).message).toBe('--log-format must be text or json; got "pretty"');
  });

  it("writes a record as time, level, message, its own fields and the error's message", () => {
    const time = Date.UTC(2026, 0, 2, 3, 4, 5);
    expect(
      formatLogRecord({
        level: 40,
        time,
        pid: 7,
        hostname: "h",
        msg: "lease lost",
        workerId: "w1",
        stats: { claimed: 2 },
        note: "two words",
        err: { type: "Error", message: "boom", stack: "Error: boom\n    at x" },
      }),
    ).toBe('03:04:05 WARN  lease lost workerId=w1 stats={"claimed":2} note="two words" (error: boom)');
    expect(formatLogRecord({ level: 30, time, msg: "worker started" })).toBe("03:04:05 INFO  worker started");
  });
});
