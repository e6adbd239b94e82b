import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { completePrefixLength, cutAtOrAfter, cutAtOrBefore } from "./utf8-boundary.js";

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const EURO = [0xe2, 0x82, 0xac]; // €
const FACE = [0xf0, 0x9f, 0x98, 0x80]; // 😀

describe("completePrefixLength", () => {
  it.each([
    ["empty", b(), 0],
    ["ascii", b(0x61, 0x62), 2],
    ["a whole 3-byte character", b(0x61, ...EURO), 4],
    ["1 of 3 bytes", b(0x61, EURO[0]!), 1],
    ["2 of 3 bytes", b(0x61, EURO[0]!, EURO[1]!), 1],
    ["a whole 4-byte character", b(...FACE), 4],
    ["3 of 4 bytes", b(0x61, ...FACE.slice(0, 3)), 1],
    ["a lone continuation byte (invalid, not held)", b(0x61, 0x80), 2],
    ["four continuation bytes (invalid, not held)", b(0x80, 0x80, 0x80, 0x80), 4],
    ["an invalid lead byte", b(0x61, 0xff), 2],
    ["a 2-byte lead alone", b(0xc3), 0],
  ])("%s", (_label, bytes, expected) => {
    expect(completePrefixLength(bytes)).toBe(expected);
  });

  it("never splits a valid string's characters", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.nat(), (s, at) => {
        const bytes = Buffer.from(s, "utf8");
        const prefix = bytes.subarray(0, bytes.length === 0 ? 0 : at % (bytes.length + 1));
        const n = completePrefixLength(prefix);
        expect(n).toBeGreaterThanOrEqual(prefix.length - 3);
        expect(Buffer.from(prefix.subarray(0, n).toString("utf8"), "utf8").equals(prefix.subarray(0, n))).toBe(true);
      }),
    );
  });
});

describe("cutAtOrBefore / cutAtOrAfter", () => {
  const bytes = b(0x61, ...EURO, 0x62); // a € b: boundaries 0, 1, 4, 5
  it.each([
    [0, 0, 0],
    [1, 1, 1],
    [2, 1, 4],
    [3, 1, 4],
    [4, 4, 4],
    [5, 5, 5],
    [9, 5, 5],
  ])("at %i: before %i, after %i", (at, before, after) => {
    expect(cutAtOrBefore(bytes, at)).toBe(before);
    expect(cutAtOrAfter(bytes, at)).toBe(after);
  });

  it("still cuts inside runs of invalid continuation bytes", () => {
    const junk = b(0x80, 0x80, 0x80, 0x80, 0x80, 0x80);
    expect(cutAtOrBefore(junk, 5)).toBe(5);
    expect(cutAtOrAfter(junk, 1)).toBe(4);
  });
});
