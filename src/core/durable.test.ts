import { describe, expect, it } from "vitest";
import { matchesSignal } from "./durable.js";

describe("matchesSignal", () => {
  const payload = { orderId: "o-1", amount: 42, tags: ["a", "b"], customer: { id: "c-9", tier: "gold" }, paid: true };

  it.each<[string, Record<string, unknown> | null, boolean]>([
    ["no match condition matches anything", null, true],
    ["an empty condition matches anything", {}, true],
    ["one equal field", { orderId: "o-1" }, true],
    ["several equal fields", { orderId: "o-1", amount: 42, paid: true }, true],
    ["a different value", { orderId: "o-2" }, false],
    ["a missing field", { refund: true }, false],
    ["a number is not its string", { amount: "42" }, false],
    ["a nested subset", { customer: { tier: "gold" } }, true],
    ["a nested difference", { customer: { tier: "silver" } }, false],
    ["an equal array", { tags: ["a", "b"] }, true],
    ["arrays match whole, not as subsets", { tags: ["a"] }, false],
    ["an object where the payload has a value", { amount: { value: 42 } }, false],
    ["null must be null", { orderId: null }, false],
  ])("%s", (_name, match, expected) => {
    expect(matchesSignal(match, payload)).toBe(expected);
  });

  it("a non-object payload matches only an empty or absent condition", () => {
    expect(matchesSignal({}, "text")).toBe(true);
    expect(matchesSignal({ a: 1 }, "text")).toBe(false);
    expect(matchesSignal({ a: 1 }, null)).toBe(false);
    expect(matchesSignal({ a: 1 }, [1])).toBe(false);
  });
});
