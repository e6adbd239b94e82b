import fc from "fast-check";
import { expect, test } from "vitest";
import { iso } from "./rows.js";

test("iso answers as toISOString does, however often and in whatever order times repeat", () => {
  const time = fc.integer({ min: -8.64e15, max: 8.64e15 });
  fc.assert(
    fc.property(
      fc.array(fc.oneof(time, fc.constantFrom(0, 1_700_000_000_000, 1_700_000_000_001)), { maxLength: 300 }),
      (times) => {
        for (const ms of times) expect(iso(ms)).toBe(new Date(ms).toISOString());
      },
    ),
  );
  expect(() => iso(Number.NaN)).toThrow(RangeError);
});
