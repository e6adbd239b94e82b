import { decodeTime } from "ulidx";
import { describe, expect, it } from "vitest";
import { newId } from "./ids.js";

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe("newId", () => {
  it("is a ULID of this moment, and each is greater than the last, across milliseconds too", async () => {
    const before = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      ids.push(newId(), newId());
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    for (const id of ids) expect(id).toMatch(CROCKFORD);
    expect(decodeTime(ids[0] as string)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(ids.at(-1) as string)).toBeLessThanOrEqual(Date.now());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("draws every random character from all 32 symbols, past the pool's refill", () => {
    const seen = new Set<string>();
    // A fresh random part per id needs a new millisecond (ids in one millisecond count up), and
    // 300 of them use 4,800 random bytes: more than the pool holds.
    const randomParts = new Set<string>();
    while (randomParts.size < 300) {
      const id = newId();
      randomParts.add(id.slice(10, 24));
      for (const ch of id.slice(10)) seen.add(ch);
    }
    expect(seen.size).toBe(32);
  });
});
