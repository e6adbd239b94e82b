import { describe, expect, it } from "vitest";
import { type Duration, formatDuration, parseDuration } from "./duration.js";
import { OverseerError } from "./errors.js";

describe("parseDuration", () => {
  it.each<[Duration, number]>([
    [0, 0],
    [1, 1],
    [1_500, 1_500],
    [2.4, 2],
    [2.5, 3],
    ["0", 0],
    ["250", 250],
    ["250ms", 250],
    ["1s", 1_000],
    ["1.5s", 1_500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["7d", 604_800_000],
    ["1w", 604_800_000],
    ["0.5m", 30_000],
    ["0.0005s", 1],
    [" 5m ", 300_000],
    ["5 m", 300_000],
  ])("reads %j as %i ms", (value, ms) => {
    expect(parseDuration(value, "delay")).toBe(ms);
  });

  it.each<unknown>([
    -1,
    -0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    "",
    " ",
    "-5s",
    "5x",
    "s",
    "5S",
    "5 minutes",
    "1e3",
    "1.s",
    ".5s",
    "5m30s",
    null,
    undefined,
    true,
    {},
    [5],
  ])("rejects %j with INVALID_ARGUMENT naming the field", (value) => {
    let err: unknown;
    try {
      parseDuration(value as Duration, "retention.maxAge");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe("INVALID_ARGUMENT");
    expect((err as OverseerError).details.field).toBe("retention.maxAge");
    expect((err as OverseerError).message).toContain("retention.maxAge");
  });
});

describe("formatDuration", () => {
  it.each<[number, string]>([
    [0, "0ms"],
    [1, "1ms"],
    [999, "999ms"],
    [1_000, "1s"],
    [1_500, "1.5s"],
    [59_000, "59s"],
    [60_000, "1m"],
    [90_000, "1.5m"],
    [3_600_000, "1h"],
    [5_400_000, "1.5h"],
    [86_400_000, "1d"],
    [604_800_000, "7d"],
  ])("writes %i ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([0, 250, 1_000, 30_000, 300_000, 7_200_000, 604_800_000])("round-trips %i ms", (ms) => {
    expect(parseDuration(formatDuration(ms), "x")).toBe(ms);
  });
});
