import { describe, expect, it } from "vitest";
import { retryWhileBusy } from "./connection.js";

const busy = () => Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });

describe("retryWhileBusy", () => {
  it("tries again while the file is busy, then returns what the call returns", () => {
    let calls = 0;
    const value = retryWhileBusy(() => {
      calls++;
      if (calls < 3) throw busy();
      return "wal";
    }, 1_000);
    expect(value).toBe("wal");
    expect(calls).toBe(3);
  });

  it("gives up with the last error once the time is spent", () => {
    let calls = 0;
    expect(() =>
      retryWhileBusy(() => {
        calls++;
        throw busy();
      }, 20),
    ).toThrow("database is locked");
    expect(calls).toBeGreaterThan(1);
  });

  it("passes any other error on at once", () => {
    let calls = 0;
    expect(() =>
      retryWhileBusy(() => {
        calls++;
        throw Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
      }, 1_000),
    ).toThrow("disk I/O error");
    expect(calls).toBe(1);
  });
});
