import { createOverseer } from "overseer";
import pg from "pg";

// A schema of its own, dropped at the end, so the example leaves nothing behind.
const base = process.env.OVERSEER_DATABASE ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `overseer_example_${process.pid}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const url = `${base}${base.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

try {
  const overseer = await createOverseer({ database: url });
  const client = new pg.Client({ connectionString: url }); // your own connection
  await client.connect();
  await client.query("CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL)");

  async function placeOrder(item) {
    await client.query("BEGIN");
    try {
      const { rows } = await client.query("INSERT INTO orders (item) VALUES ($1) RETURNING id", [item]);
      if (item === "out of stock") throw new Error(`cannot sell ${item}`);
      // Last before COMMIT: it holds Overseer's event lock until your transaction ends.
      await overseer.enqueueWithin(client, "ship-order", { orderId: rows[0].id });
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK");
      throw err;
    }
  }

  await placeOrder("lamp"); // commits: the order and its job
  await placeOrder("out of stock").catch((err) => console.log("rolled back:", err.message));
  console.log("orders:", (await client.query("SELECT count(*)::int AS n FROM orders")).rows[0].n);
  console.log(
    "jobs:",
    (await overseer.listJobs()).map((j) => j.payload),
  );
  await client.end();
  await overseer.close();
} finally {
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
