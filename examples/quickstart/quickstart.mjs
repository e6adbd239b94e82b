import { createOverseer } from "overseer";

const overseer = await createOverseer({ database: "./quickstart.db" });
overseer.defineTask("send-email", async (payload, ctx) => {
  await ctx.progress({ sending: payload.to });
  return { delivered: payload.to, attempt: ctx.attempt };
});
const job = await overseer.enqueue("send-email", { to: "ada@example.com" }, { priority: "high" });
const worker = overseer.worker({ concurrency: 10 });
await worker.start();
while ((await overseer.getJob(job.id))?.state !== "succeeded") await new Promise((r) => setTimeout(r, 10));
console.log((await overseer.getJob(job.id)).result); // { delivered: 'ada@example.com', attempt: 1 }
await overseer.close();
