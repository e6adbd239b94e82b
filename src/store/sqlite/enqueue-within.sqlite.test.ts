// enqueueWithin on SQLite: the job commits or rolls back with the user's own transaction.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { OverseerError } from "../../core/errors.js";
import { createOverseer, type Overseer } from "../../sdk/overseer.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ overseer: Overseer; db: Database.Database; path: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "overseer-within-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "app.db");
  const overseer = await createOverseer({ database: path });
  cleanups.push(() => overseer.close());
  const db = new Database(path);
  cleanups.push(() => {
    db.close();
  });
  db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)");
  return { overseer, db, path, dir };
}

describe("enqueueWithin (SQLite)", () => {
  it("a transaction that rolls back leaves no job and no event; one that commits leaves exactly one", async () => {
    const { overseer, db } = await setup();
    const placeOrder = (item: string, fail: boolean) =>
      db.transaction(() => {
        const { lastInsertRowid } = db.prepare("INSERT INTO orders (item) VALUES (?)").run(item);
        overseer.enqueueWithin(db, "ship", { order: Number(lastInsertRowid) });
        if (fail) throw new Error("payment declined");
      })();

    expect(() => placeOrder("book", true)).toThrow("payment declined");
    expect(await overseer.listJobs()).toEqual([]);
    expect((await overseer.readEvents()).filter((e) => e.kind === "job.enqueued")).toEqual([]);

    placeOrder("lamp", false);
    const jobs = await overseer.listJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ task: "ship", state: "queued", payload: { order: 1 } });
    const events = (await overseer.readEvents()).filter((e) => e.kind === "job.enqueued");
    expect(events.map((e) => e.jobId)).toEqual([jobs[0]?.id]);
  });

  it("applies task defaults and idempotency keys as enqueue does", async () => {
    const { overseer, db } = await setup();
    overseer.defineTask("ship", async () => null, { queue: "shipping", maxAttempts: 7 });
    const first = await overseer.enqueue("ship", {}, { idempotencyKey: "order-1" });
    const [a, b] = db.transaction(() => [
      overseer.enqueueWithin(db, "ship", {}, { idempotencyKey: "order-1" }),
      overseer.enqueueWithin(db, "ship", {}, { idempotencyKey: "order-2" }),
    ])();
    expect(a?.id).toBe(first.id);
    expect(b).toMatchObject({ queue: "shipping", maxAttempts: 7, idempotencyKey: "order-2" });
    const again = db.transaction(() => overseer.enqueueWithin(db, "ship", {}, { idempotencyKey: "order-2" }))();
    expect(again.id).toBe(b?.id);
    expect(await overseer.listJobs()).toHaveLength(2);
  });

  it("rejects a call outside a transaction, a handle of another kind, another file and bad options", async () => {
    const { overseer, db, dir } = await setup();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof OverseerError ? `${err.code}: ${err.message}` : String(err);
      }
      return "no error";
    };
    expect(code(() => overseer.enqueueWithin(db, "ship"))).toMatch(/^INVALID_ARGUMENT: .*inside your transaction/);
    await expect(overseer.enqueueWithin({ query: async () => ({ rows: [] }) }, "ship")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    const other = new Database(join(dir, "other.db"));
    cleanups.push(() => {
      other.close();
    });
    expect(code(() => other.transaction(() => overseer.enqueueWithin(other, "ship"))())).toMatch(
      /^INVALID_ARGUMENT: .*store's database/,
    );
    expect(
      code(() => db.transaction(() => overseer.enqueueWithin(db, "ship", {}, { priority: "urgent" as never }))()),
    ).toMatch(/^INVALID_ARGUMENT: .*priority/);
    expect(await overseer.listJobs()).toEqual([]);
  });

  it("a worker picks the committed job up", async () => {
    const { overseer, db } = await setup();
    const done = new Promise<unknown>((resolve) => {
      overseer.defineTask("ship", async (payload) => {
        resolve(payload);
        return "shipped";
      });
    });
    const worker = overseer.worker({ concurrency: 1 });
    await worker.start();
    db.transaction(() => overseer.enqueueWithin(db, "ship", { order: 42 })).immediate();
    expect(await done).toEqual({ order: 42 });
  });
});
