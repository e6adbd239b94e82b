import { describe, expect, it } from "vitest";
import { matchesAny, matchesGlob } from "./glob.js";

describe("matchesGlob", () => {
  it.each([
    ["deploy", "deploy", true],
    ["deploy", "deploy.prod", false],
    ["deploy.*", "deploy.prod", true],
    ["deploy.*", "deploy.prod.eu", true],
    ["deploy.*", "deploy.", true],
    ["deploy.*", "deploy", false],
    ["*", "", true],
    ["*.sql", "drop.sql", true],
    ["*.sql", "drop.sqlx", false],
    ["HTTP_5*", "HTTP_503", true],
    ["a*b*c", "abc", true],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "acb", false],
    ["a*a", "a", false],
    ["ab*ba", "aba", false],
    ["Deploy.*", "deploy.x", false],
  ])("%s vs %s: %s", (pattern, value, expected) => {
    expect(matchesGlob(pattern, value)).toBe(expected);
  });

  it("matchesAny is true when one pattern matches", () => {
    expect(matchesAny(["x", "y*"], "yes")).toBe(true);
    expect(matchesAny([], "yes")).toBe(false);
  });
});
