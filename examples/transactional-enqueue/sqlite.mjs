import Database from "better-sqlite3";
import { createOverseer } from "overseer";

const overseer = await createOverseer({ database: "./shop.db" });
const db = new Database("./shop.db"); // your own connection, on the same file
db.exec("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)");

// .immediate() takes the write lock up front, as Overseer's own transactions do.
const placeOrder = db.transaction((item) => {
  const order = db.prepare("INSERT INTO orders (item) VALUES (?)").run(item);
  overseer.enqueueWithin(db, "ship-order", { orderId: Number(order.lastInsertRowid) });
  if (item === "out of stock") throw new Error(`cannot sell ${item}`);
});

placeOrder.immediate("lamp"); // commits: the order and its job
try {
  placeOrder.immediate("out of stock"); // rolls back: no order, no job
} catch (err) {
  console.log("rolled back:", err.message);
}
console.log("orders:", db.prepare("SELECT count(*) AS n FROM orders").get().n);
console.log(
  "jobs:",
  (await overseer.listJobs()).map((j) => j.payload),
);
db.close();
await overseer.close();
