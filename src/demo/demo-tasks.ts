/**
 * The demo behind `npm start`: a few tasks that behave like real ones (slow, flaky, limited)
 * and a producer that keeps enqueueing, so a new user sees retries, priorities, concurrency
 * limits, delays, dead jobs and approval requests happen within a minute.
 */
import { PermanentError } from "../core/errors.js";
import { defineTask, type TaskDefinition } from "../core/task.js";
import type { Overseer } from "../sdk/overseer.js";

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new Error(`aborted: ${String(signal.reason)}`));
      },
      { once: true },
    );
  });
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

export const demoTasks: TaskDefinition[] = [
  defineTask(
    "send-email",
    async (payload: { to: string }, ctx) => {
      await sleep(between(20, 150), ctx.signal);
      if (Math.random() < 0.05) throw Object.assign(new Error("SMTP server timed out"), { code: "SMTP_TIMEOUT" });
      return { delivered: payload.to };
    },
    { backoff: { type: "exponential", base: "500ms", cap: "10s" } },
  ),
  defineTask(
    "charge-card",
    async (payload: { amount: number }, ctx) => {
      await sleep(between(50, 200), ctx.signal);
      if (Math.random() < 0.03) throw new PermanentError("card declined", { code: "CARD_DECLINED" });
      return { charged: payload.amount };
    },
    { queue: "payments" },
  ),
  defineTask("generate-report", async (payload: { name: string }, ctx) => {
    for (let step = 1; step <= 5; step++) {
      await sleep(100, ctx.signal);
      await ctx.progress({ step, of: 5 });
    }
    await ctx.log("report ready", { name: payload.name });
    return { pages: between(3, 40) };
  }),
  defineTask(
    "call-customer",
    async (_payload: { business: string }, ctx) => {
      await sleep(between(200, 600), ctx.signal);
      if (Math.random() < 0.15) throw Object.assign(new Error("line busy"), { code: "LINE_BUSY" });
    },
    { concurrency: { limit: 2 }, maxAttempts: 3, backoff: { type: "fixed", delay: "2s" } },
  ),
  defineTask("refund-order", async (payload: { order: string; amount: number }, ctx) => {
    // Looked up once, whatever happens after: the step's result is kept for later executions.
    const customer = await ctx.step("look-up", () => ({ tier: payload.amount > 300 ? "gold" : "standard" }));
    const decision = await ctx.requestApproval({
      title: `Refund ${payload.amount} EUR on order ${payload.order}`,
      details: { order: payload.order, amount: payload.amount, customer },
      risk: payload.amount > 300 ? "high" : "medium",
      timeout: "10m",
      onTimeout: "deny",
    });
    return { refunded: decision.approved ? payload.amount : 0, decidedBy: decision.decidedBy };
  }),
];

/** Enqueues a few jobs per second until stopped. */
export function startDemoProducer(overseer: Overseer, onError: (err: unknown) => void): () => void {
  let n = 0;
  const tick = async () => {
    n++;
    const business = `business-${between(1, 4)}`;
    await overseer.enqueue("send-email", { to: `user${n}@example.com` });
    if (n % 2 === 0) await overseer.enqueue("charge-card", { amount: between(5, 500) });
    if (n % 3 === 0) {
      await overseer.enqueue(
        "call-customer",
        { business },
        { concurrencyKey: business, priority: n % 9 === 0 ? "high" : "default" },
      );
    }
    // One refund every 30 s waits in the dashboard's Approvals inbox (denied after 10 minutes).
    if (n % 120 === 1) await overseer.enqueue("refund-order", { order: `o-${n}`, amount: between(20, 600) });
    if (n % 10 === 0) {
      await overseer.enqueueMany(
        Array.from({ length: 5 }, (_, i) => ({
          task: "generate-report",
          payload: { name: `daily-${n}-${i}` },
          options: { priority: "low" as const, delay: "3s" },
        })),
      );
    }
  };
  const timer = setInterval(() => tick().catch(onError), 250);
  return () => clearInterval(timer);
}
