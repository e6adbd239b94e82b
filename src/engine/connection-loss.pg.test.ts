/**
 * A node that loses its PostgreSQL connections: the server terminates every connection of the
 * worker's store mid-work. The worker must not crash or stop for good: its loops report the
 * failure and retry with backoff, the pool reconnects, and every job still succeeds exactly once.
 */
import { expect, it, onTestFinished } from "vitest";
import { isOverseerError } from "../core/errors.js";
import type { Job } from "../core/types.js";
import { createOverseer } from "../sdk/overseer.js";
import { PostgresStore } from "../store/postgres/postgres-store.js";
import { pgSchemas } from "../test-support/pg-schema.js";
import { waitFor } from "../test-support/wait.js";

const newSchema = pgSchemas();

it("a worker whose connections are all terminated recovers and finishes every job once", {
  timeout: 30_000,
}, async () => {
  const { schema, url, query } = await newSchema();
  // Named in the URL, so that only this store's connections are terminated, not other tests'.
  const name = `overseer-loss-${schema}`;
  const store = await PostgresStore.open({ url: `${url}&application_name=${name}`, poolSize: 4 });
  const overseer = await createOverseer({ store });
  onTestFinished(() => overseer.close());
  const runs = new Map<string, number>();
  overseer.defineTask("work", async (_payload, ctx) => {
    runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 20));
  });
  const before = await overseer.enqueueMany(Array.from({ length: 100 }, () => ({ task: "work" })));
  const worker = overseer.worker({ concurrency: 5, leaseMs: 3_000, heartbeatMs: 200, maintenanceMs: 100, pollMs: 100 });
  await worker.start();
  await waitFor("some jobs to finish", async () => (await overseer.countJobs()).succeeded >= 10);

  // The server ends every connection this store holds, as a failover or a network cut would.
  const killed = await query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
    name,
  ]);
  expect(killed.length).toBeGreaterThan(0);
  // A producer's call that meets a cut connection fails clearly and has written nothing; retried, it goes through.
  let refused = 0;
  let after: Job[] = [];
  for (let attempt = 0; after.length === 0; attempt++) {
    try {
      after = await overseer.enqueueMany(Array.from({ length: 50 }, () => ({ task: "work" })));
    } catch (err) {
      expect(isOverseerError(err, "DATABASE_UNAVAILABLE"), String(err)).toBe(true);
      expect(attempt).toBeLessThan(20);
      refused++;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  expect(refused).toBeLessThan(20);

  await waitFor("every job to succeed", async () => (await overseer.countJobs()).succeeded === 150, {
    timeoutMs: 20_000,
  });
  expect(worker.isRunning).toBe(true);
  // At least once (a lease lost in the cut may let a job run again), never lost: all 150 succeeded once in the store.
  for (const job of [...before, ...after]) expect(runs.get(job.id) ?? 0).toBeGreaterThanOrEqual(1);
  const succeededEvents = (await overseer.readEvents({ limit: 10_000 })).filter((e) => e.kind === "job.succeeded");
  expect(succeededEvents).toHaveLength(150);
});
