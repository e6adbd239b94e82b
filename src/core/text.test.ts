import { describe, expect, it } from "vitest";
import { clip } from "./text.js";

describe("clip", () => {
  it.each([
    ["short", 10, "short"],
    ["exactly10!", 10, "exactly10!"],
    ["eleven char", 10, "eleven ch…"],
    ["", 3, ""],
  ])("clip(%j, %i) is %j", (text, max, expected) => {
    expect(clip(text, max)).toBe(expected);
    expect(clip(text, max).length).toBeLessThanOrEqual(max);
  });
});
