/**
 * The payload-filter part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): `listJobs({ payload })` matches exactly what core/payload-filter.ts's `payloadMatches`
 * says, on every backend: strings by their text, numbers by their value, never a boolean, never
 * a missing field, nested paths included.
 */
import { describe, expect } from "vitest";
import { type PayloadMatch, payloadMatches } from "../../core/payload-filter.js";
import type { ConformanceTest } from "./runs.js";
import { rejectsWith } from "./suite.js";

const PAYLOADS: unknown[] = [
  { phone: "+15550100", n: 42, vip: true },
  { phone: "+15550101", n: 42.5, customer: { id: "42", tier: "gold" } },
  { phone: "+15550100", n: "42", customer: { id: 42 } },
  { "order-id": "o-1", n: 1, flag: 1 },
  { n: true, flag: true, customer: { id: null } },
  { phone: null, nested: { deep: { er: { than: { this: "x" } } } } },
  { customer: { id: 42 }, list: [1, 2], null: "yes", phone: "+1" },
  { customer: '{"id":42}', list: "[1,2]", null: null },
  "just a string",
  [1, 2, 3],
  null,
];

const QUERIES: PayloadMatch[][] = [
  [{ path: ["phone"], value: "+15550100" }],
  [{ path: ["n"], value: "42" }],
  [{ path: ["n"], value: "42.0" }],
  [{ path: ["n"], value: "42.5" }],
  [{ path: ["n"], value: "1" }],
  [{ path: ["n"], value: "true" }],
  [{ path: ["flag"], value: "1" }],
  [{ path: ["customer", "id"], value: "42" }],
  [{ path: ["customer", "tier"], value: "gold" }],
  [{ path: ["order-id"], value: "o-1" }],
  [{ path: ["phone"], value: "null" }],
  [{ path: ["nested", "deep", "er", "than", "this"], value: "x" }],
  [{ path: ["missing"], value: "" }],
  // An object or an array is never a match, whatever its JSON text; a string holding that text is.
  [{ path: ["customer"], value: '{"id":42}' }],
  [{ path: ["list"], value: "[1,2]" }],
  // A key named null, and a path through a string.
  [{ path: ["null"], value: "yes" }],
  [{ path: ["phone", "x"], value: "+1" }],
  [
    { path: ["phone"], value: "+15550100" },
    { path: ["n"], value: "42" },
  ],
];

export function runPayloadFilterConformance(test: ConformanceTest): void {
  describe("listJobs by payload fields", () => {
    test("matches what payloadMatches says, for strings, numbers, booleans, nulls and nested paths", async (ctx) => {
      const ids: string[] = [];
      for (const payload of PAYLOADS) ids.push((await ctx.add({}, { payload })).id);
      for (const query of QUERIES) {
        const expected = PAYLOADS.flatMap((p, i) => (query.every((m) => payloadMatches(p, m)) ? [ids[i]] : []));
        const found = (await ctx.store.listJobs({ payload: query, oldestFirst: true })).map((j) => j.id);
        expect(found, JSON.stringify(query)).toEqual(expected);
      }
      // The spec itself, for the cases that matter most.
      // "42" is the string "42" and the number 42; "42.0" only the number; "1" never true.
      expect(PAYLOADS.filter((p) => payloadMatches(p, { path: ["n"], value: "42" }))).toHaveLength(2);
      expect(PAYLOADS.filter((p) => payloadMatches(p, { path: ["n"], value: "42.0" }))).toHaveLength(1);
      expect(PAYLOADS.filter((p) => payloadMatches(p, { path: ["customer", "id"], value: "42" }))).toHaveLength(3);
      expect(PAYLOADS.filter((p) => payloadMatches(p, { path: ["flag"], value: "1" }))).toHaveLength(1);
    });

    test("refuses a path it cannot write into SQL safely, whoever built the filter", async (ctx) => {
      await ctx.add({}, { payload: { a: 1 } });
      for (const path of [["x') OR 1=1 --"], ['a"b'], ["a,b"], ["0"], ["-1"], [], ["a", "b", "c", "d", "e", "f"]]) {
        await rejectsWith(() => ctx.store.listJobs({ payload: [{ path, value: "1" }] }), "INVALID_ARGUMENT");
      }
      const twice = [
        { path: ["a"], value: "1" },
        { path: ["a"], value: "2" },
      ];
      await rejectsWith(() => ctx.store.listJobs({ payload: twice }), "INVALID_ARGUMENT");
    });

    test("combines with the other filters and pages", async (ctx) => {
      const a = await ctx.add({ queue: "calls" }, { payload: { phone: "+1" } });
      await ctx.add({ queue: "texts" }, { payload: { phone: "+1" } });
      const c = await ctx.add({ queue: "calls" }, { payload: { phone: "+1" } });
      await ctx.add({ queue: "calls" }, { payload: { phone: "+2" } });
      const filter = { queue: "calls", payload: [{ path: ["phone"], value: "+1" }] };
      expect((await ctx.store.listJobs({ ...filter, limit: 1 })).map((j) => j.id)).toEqual([c.id]);
      expect((await ctx.store.listJobs({ ...filter, beforeId: c.id })).map((j) => j.id)).toEqual([a.id]);
    });
  });
}
