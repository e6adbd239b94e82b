import fc from "fast-check";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { literal, textArrayLiteral } from "./literals.js";

describe("string literals", () => {
  test.each([
    ["", "''"],
    ["plain", "'plain'"],
    ["it's", "'it''s'"],
    ["a\\b", " E'a\\\\b'"],
    ["'\\'", " E'''\\\\'''"],
  ])("writes %j as the driver does", (value, expected) => {
    expect(literal(value)).toBe(expected);
    expect(pg.escapeLiteral(value)).toBe(expected);
  });

  test("matches the driver's escapeLiteral on any string", () => {
    const awkward = fc.constantFrom("'", "\\", '"', "{", "}", ",", "é", "😀", " ", "\n");
    const text = fc
      .oneof(
        fc.string({ unit: "grapheme" }),
        fc.array(awkward).map((a) => a.join("")),
      )
      .filter((value) => !value.includes("\u0000"));
    fc.assert(fc.property(text, (value) => literal(value) === pg.escapeLiteral(value)));
  });

  test("textArrayLiteral quotes its elements and then the whole, and a NUL is refused", () => {
    expect(literal("o'k")).toBe("'o''k'");
    expect(textArrayLiteral(['a"b', null, "c\\d"])).toBe(' E\'{"a\\\\"b",NULL,"c\\\\\\\\d"}\'::text[]');
    expect(() => literal("a\u0000b")).toThrow();
  });
});
