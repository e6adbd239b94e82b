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

  test("textArrayLiteral joins texts unescaped, and quotes each of a list it could misread", () => {
    expect(textArrayLiteral(['{"a":1}', null, "it's"])).toBe(
      `string_to_array('{"a":1}\u001e\u001eit''s', chr(30), '')`,
    );
    expect(textArrayLiteral(['a"b', "", "c\\d"])).toBe(' E\'{"a\\\\"b","","c\\\\\\\\d"}\'::text[]');
    expect(textArrayLiteral(["only"])).toBe(`'{"only"}'::text[]`);
    expect(textArrayLiteral(["a\u001eb", "c"])).toBe(`'{"a\u001eb","c"}'::text[]`);
    expect(textArrayLiteral([])).toBe("'{}'::text[]");
    expect(() => textArrayLiteral(["a\u0000b", "c"])).toThrow();
  });
});
