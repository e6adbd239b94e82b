// A task module: the file name is the task name; the default export is the handler.
export default async function (payload, ctx) {
  await ctx.log("sending", { to: payload.to });
  if (ctx.signal.aborted) return; // cancelled, or the worker is shutting down
}
export const defaults = { maxAttempts: 5, backoff: { type: "exponential", base: "1s", cap: "10m" } };
