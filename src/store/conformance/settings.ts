/**
 * The execution switch part of the store conformance suite (see suite.ts, which calls it with
 * its `test`): never set, set with its audit event, a change to the mode it has kept as is,
 * optimistic concurrency, and what a first change's audit says it changed from.
 */
import { describe, expect } from "vitest";
import type { ConformanceTest } from "./runs.js";
import { type Ctx, rejectsWith } from "./suite.js";

const iso = (ms: number): string => new Date(ms).toISOString();

async function changes(ctx: Ctx): Promise<unknown[]> {
  return (await ctx.store.readEvents()).filter((e) => e.kind === "execution.changed").map((e) => e.data);
}

export function runSettingsConformance(test: ConformanceTest): void {
  describe("execution switch", () => {
    test("a new database has no switch; setting it stores who, when and why and appends execution.changed", async (ctx) => {
      expect(await ctx.store.getExecution()).toBeNull();
      const t0 = ctx.clock.now;
      const on = await ctx.store.setExecution({ mode: "enabled", by: "root", reason: "go live" });
      expect(on).toEqual({ mode: "enabled", changedBy: "root", changedAt: iso(t0), reason: "go live", version: 1 });
      expect(await ctx.store.getExecution()).toEqual(on);
      ctx.clock.advance(1_000);
      const off = await ctx.store.setExecution({ mode: "dry-run", by: "ana", reason: null });
      expect(off).toMatchObject({ mode: "dry-run", changedBy: "ana", reason: null, version: 2 });
      expect(await changes(ctx)).toEqual([
        { from: "dry-run", to: "enabled", by: "root", reason: "go live" },
        { from: "enabled", to: "dry-run", by: "ana", reason: null },
      ]);
    });

    test("setting the mode it has already writes nothing", async (ctx) => {
      const on = await ctx.store.setExecution({ mode: "enabled", by: "root", reason: null });
      expect(await ctx.store.setExecution({ mode: "enabled", by: "bo", reason: "again" })).toEqual(on);
      expect(await changes(ctx)).toHaveLength(1);
    });

    test("a change at a stale version is refused with VERSION_CONFLICT and changes nothing", async (ctx) => {
      await ctx.store.setExecution({ mode: "enabled", by: "root", reason: null });
      await rejectsWith(
        () => ctx.store.setExecution({ mode: "dry-run", by: "ana", reason: null, expectedVersion: 0 }),
        "VERSION_CONFLICT",
      );
      await rejectsWith(
        () => ctx.store.setExecution({ mode: "enabled", by: "ana", reason: null, expectedVersion: 7 }),
        "VERSION_CONFLICT",
      );
      expect(await ctx.store.getExecution()).toMatchObject({ mode: "enabled", version: 1 });
      const off = await ctx.store.setExecution({ mode: "dry-run", by: "ana", reason: null, expectedVersion: 1 });
      expect(off.version).toBe(2);
    });

    test("a first change's audit says the mode in force before it: the caller's while never set", async (ctx) => {
      await ctx.store.setExecution({ mode: "dry-run", by: "ana", reason: null }, "enabled");
      expect(await changes(ctx)).toEqual([{ from: "enabled", to: "dry-run", by: "ana", reason: null }]);
    });

    test("a bad change is refused with INVALID_ARGUMENT naming the field", async (ctx) => {
      await rejectsWith(
        () => ctx.store.setExecution({ mode: "on" as "enabled", by: "root", reason: null }),
        "INVALID_ARGUMENT",
      );
      await rejectsWith(() => ctx.store.setExecution({ mode: "enabled", by: " ", reason: null }), "INVALID_ARGUMENT");
      await rejectsWith(
        () => ctx.store.setExecution({ mode: "enabled", by: "root", reason: "x".repeat(501) }),
        "INVALID_ARGUMENT",
      );
      expect(await ctx.store.getExecution()).toBeNull();
    });
  });
}
