/**
 * enqueueWithin on PostgreSQL: the job commits or rolls back with the user's own transaction.
 * Each test gets its own schema, dropped when it passed and kept (name printed) when it failed.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { OverseerError } from "../../core/errors.js";
import { Overseer } from "../../sdk/overseer.js";
import { PostgresStore } from "./postgres-store.js";

const URL = process.env.OVERSEER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const admin = new pg.Pool({ connectionString: URL, max: 2 });

afterAll(async () => {
  await admin.end();
});

/** A fresh schema, an Overseer on it and a user's own client (default search_path), closed when the test ends. */
async function setup(): Promise<{ overseer: Overseer; client: pg.Client; schema: string }> {
  const schema = `overseer_t_${randomBytes(6).toString("hex")}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const overseer = new Overseer(await PostgresStore.open({ url: URL, schema, poolSize: 4 }));
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  await client.query(`CREATE TABLE ${schema}.orders (id serial PRIMARY KEY, item text NOT NULL)`);
  onTestFinished(async ({ task }) => {
    await client.end();
    await overseer.close();
    if (task.result?.state === "fail") {
      console.error(`kept schema ${schema} of the failed test "${task.name}" for inspection`);
      return;
    }
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  });
  return { overseer, client, schema };
}

describe("enqueueWithin (PostgreSQL)", () => {
  it("a transaction that rolls back leaves no job and no event; one that commits leaves exactly one", async () => {
    const { overseer, client, schema } = await setup();
    const placeOrder = async (item: string, commit: boolean) => {
      await client.query("BEGIN");
      const { rows } = await client.query(`INSERT INTO ${schema}.orders (item) VALUES ($1) RETURNING id`, [item]);
      await overseer.enqueueWithin(client, "ship", { order: rows[0].id });
      await client.query(commit ? "COMMIT" : "ROLLBACK");
    };

    await placeOrder("book", false);
    expect(await overseer.listJobs()).toEqual([]);
    expect((await overseer.readEvents()).filter((e) => e.kind === "job.enqueued")).toEqual([]);

    await placeOrder("lamp", true);
    const jobs = await overseer.listJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ task: "ship", state: "queued", payload: { order: 2 } });
    const events = (await overseer.readEvents()).filter((e) => e.kind === "job.enqueued");
    expect(events.map((e) => e.jobId)).toEqual([jobs[0]?.id]);
    // The user's search_path is as it was: their own unqualified names still resolve as before.
    expect((await client.query("SELECT current_setting('search_path') AS p")).rows[0].p).not.toContain(schema);
  });

  it("applies task defaults and idempotency keys as enqueue does", async () => {
    const { overseer, client } = await setup();
    overseer.defineTask("ship", async () => null, { queue: "shipping", maxAttempts: 7 });
    const first = await overseer.enqueue("ship", {}, { idempotencyKey: "order-1" });
    await client.query("BEGIN");
    const a = await overseer.enqueueWithin(client, "ship", {}, { idempotencyKey: "order-1" });
    const b = await overseer.enqueueWithin(client, "ship", {}, { idempotencyKey: "order-2" });
    const c = await overseer.enqueueWithin(client, "ship", {}, { idempotencyKey: "order-2" });
    await client.query("COMMIT");
    expect(a.id).toBe(first.id);
    expect(a.createdAt).toBe(first.createdAt);
    expect(b).toMatchObject({ queue: "shipping", maxAttempts: 7, idempotencyKey: "order-2" });
    expect(c.id).toBe(b.id);
    expect(await overseer.listJobs()).toHaveLength(2);
  });

  it("rejects a client with no transaction open and a handle of another kind; a failure leaves the transaction usable", async () => {
    const { overseer, client, schema } = await setup();
    await expect(overseer.enqueueWithin(client, "ship")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/inside your transaction/),
    });
    const sqliteLike = {
      inTransaction: true,
      prepare: () => ({ run: () => 0, get: () => 0, all: () => [], raw: () => 0 }),
    };
    expect(() => overseer.enqueueWithin(sqliteLike, "ship")).toThrow(OverseerError);

    overseer.defineTask("ship", async () => null, { concurrency: { limit: 1, onLimit: "reject" } });
    await overseer.enqueue("ship", {}, { concurrencyKey: "k" });
    await client.query("BEGIN");
    await client.query(`INSERT INTO ${schema}.orders (item) VALUES ('kept')`);
    await expect(overseer.enqueueWithin(client, "ship", {}, { concurrencyKey: "k" })).rejects.toMatchObject({
      code: "CONCURRENCY_LIMIT_REACHED",
    });
    await client.query("COMMIT");
    expect((await client.query(`SELECT item FROM ${schema}.orders`)).rows).toEqual([{ item: "kept" }]);
    expect(await overseer.listJobs()).toHaveLength(1);
  });

  it("a worker picks the committed job up", async () => {
    const { overseer, client } = await setup();
    const done = new Promise<unknown>((resolve) => {
      overseer.defineTask("ship", async (payload) => {
        resolve(payload);
        return "shipped";
      });
    });
    await overseer.worker({ concurrency: 1 }).start();
    await client.query("BEGIN");
    await overseer.enqueueWithin(client, "ship", { order: 42 });
    await client.query("COMMIT");
    expect(await done).toEqual({ order: 42 });
  });
});
