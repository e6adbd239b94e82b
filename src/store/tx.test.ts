import { describe, expect, it } from "vitest";
import { answer, FOR_UPDATE, inList, type Op, runAsync, runSync, sql, sqlFor } from "./tx.js";

/** An operation as the areas write them: statements answered, an error caught, a finally run. */
function* transfer(read: (n: number) => Op<number>, log: string[]): Op<number> {
  try {
    const a = yield* read(1);
    const b = yield* read(2);
    return a + b;
  } catch (err) {
    log.push(`caught ${(err as Error).message}`);
    return -1;
  } finally {
    log.push("finally");
  }
}

describe("store operations", () => {
  it("run synchronously when every statement answers at once", () => {
    const log: string[] = [];
    expect(runSync(transfer((n) => answer(n * 10), log))).toBe(30);
    expect(log).toEqual(["finally"]);
  });

  it("run asynchronously when statements answer with promises, each awaited in order", async () => {
    const asked: number[] = [];
    const log: string[] = [];
    const read = (n: number) => {
      asked.push(n);
      return answer(Promise.resolve(n * 10));
    };
    expect(await runAsync(transfer(read, log))).toBe(30);
    expect(asked).toEqual([1, 2]);
    expect(log).toEqual(["finally"]);
  });

  it("throw a statement's error into the operation, on both drivers", async () => {
    const failing = (n: number) => {
      if (n === 2) throw new Error("sync boom");
      return answer(n);
    };
    const syncLog: string[] = [];
    expect(runSync(transfer(failing, syncLog))).toBe(-1);
    expect(syncLog).toEqual(["caught sync boom", "finally"]);

    const rejecting = (n: number) => answer(n === 2 ? Promise.reject(new Error("async boom")) : Promise.resolve(n));
    const asyncLog: string[] = [];
    expect(await runAsync(transfer(rejecting, asyncLog))).toBe(-1);
    expect(asyncLog).toEqual(["caught async boom", "finally"]);
  });

  it("refuse to run a statement that answers with a promise synchronously", () => {
    expect(() => runSync(transfer(() => answer(Promise.resolve(1)), []))).toThrow(/awaited a promise/);
  });

  it("let an uncaught error out of runAsync", async () => {
    function* op(): Op<void> {
      yield* answer(Promise.reject(new Error("lost")));
    }
    await expect(runAsync(op())).rejects.toThrow("lost");
  });
});

describe("sql", () => {
  it("is one text when nothing in it differs between dialects", () => {
    expect(sql`SELECT * FROM jobs WHERE id = $1 LIMIT ${5}`).toBe("SELECT * FROM jobs WHERE id = $1 LIMIT 5");
  });

  it("is a text per dialect when a fragment differs", () => {
    const text = sql`SELECT * FROM approvals WHERE ${inList("state", "$1")} ${FOR_UPDATE}`;
    expect(sqlFor(text, "sqlite")).toBe("SELECT * FROM approvals WHERE state IN (SELECT value FROM json_each($1)) ");
    expect(sqlFor(text, "postgres")).toBe("SELECT * FROM approvals WHERE state = ANY($1::text[]) FOR UPDATE");
  });
});
