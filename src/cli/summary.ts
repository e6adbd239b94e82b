/** The live one-line-per-second view of `overseer start` until the dashboard arrives. */
import type { Overseer } from "../sdk/overseer.js";

export function startSummary(overseer: Overseer, onError: (err: unknown) => void): () => void {
  let lastSucceeded: number | null = null;
  let lastAt = Date.now();
  const tick = async () => {
    const counts = await overseer.countJobs();
    const workers = (await overseer.listWorkers()).filter((w) => w.status === "active").length;
    const now = Date.now();
    const rate = lastSucceeded === null ? 0 : ((counts.succeeded - lastSucceeded) * 1000) / (now - lastAt);
    lastSucceeded = counts.succeeded;
    lastAt = now;
    const time = new Date(now).toISOString().slice(11, 19);
    process.stdout.write(
      `${time}  queued ${counts.queued}  running ${counts.running}  scheduled ${counts.scheduled}  ` +
        `succeeded ${counts.succeeded} (+${rate.toFixed(0)}/s)  dead ${counts.dead}  cancelled ${counts.cancelled}  ` +
        `workers ${workers}\n`,
    );
  };
  const timer = setInterval(() => tick().catch(onError), 1_000);
  return () => clearInterval(timer);
}
