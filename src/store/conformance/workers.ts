/**
 * The worker control part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): commands left for a worker and read by its heartbeats, the statuses it answers with,
 * the counts its heartbeats write, and the jobs it holds leases on, read by worker.
 */
import { describe, expect } from "vitest";
import type { WorkerRegistration } from "../store.js";
import type { ConformanceTest } from "./runs.js";
import { type Ctx, rejectsWith } from "./suite.js";

const LEASE_MS = 30_000;
const iso = (ms: number): string => new Date(ms).toISOString();

const registration = (id: string, extra: Partial<WorkerRegistration> = {}): WorkerRegistration => ({
  id,
  name: `worker ${id}`,
  host: "host-1",
  pid: 4242,
  queues: null,
  tasks: ["t"],
  concurrency: 4,
  ...extra,
});

async function workerEvents(ctx: Ctx): Promise<Array<{ kind: string; workerId: string | null; data: unknown }>> {
  return (await ctx.store.readEvents())
    .filter((e) => e.kind.startsWith("worker.") && e.kind !== "worker.started")
    .map(({ kind, workerId, data }) => ({ kind, workerId, data }));
}

export function runWorkerControlConformance(test: ConformanceTest): void {
  describe("worker control", () => {
    test("a quiet command is kept for the worker, read by its heartbeat, and answered with status quiet", async (ctx) => {
      await ctx.store.registerWorker(registration("w-1"));
      const t0 = ctx.clock.now;
      const asked = await ctx.store.commandWorker("w-1", "quiet", "ana");
      expect(asked).toMatchObject({ id: "w-1", status: "active", command: "quiet", commandAt: iso(t0) });
      expect(await ctx.store.getWorker("w-1")).toEqual(asked);
      // Asking again for what is pending changes nothing.
      ctx.clock.advance(1_000);
      expect(await ctx.store.commandWorker("w-1", "quiet", "bo")).toEqual(asked);
      expect((await ctx.store.heartbeat("w-1", [], LEASE_MS)).command).toBe("quiet");
      await ctx.store.setWorkerStatus("w-1", "quiet", 2);
      expect(await ctx.store.getWorker("w-1")).toMatchObject({ status: "quiet", command: "quiet" });
      expect(await workerEvents(ctx)).toEqual([
        { kind: "worker.quiet_requested", workerId: "w-1", data: { by: "ana" } },
        { kind: "worker.quieted", workerId: "w-1", data: { released: 2 } },
      ]);
    });

    test("resume takes a quiet back: the heartbeat reads no command and the worker answers active", async (ctx) => {
      await ctx.store.registerWorker(registration("w-1"));
      await ctx.store.commandWorker("w-1", "quiet", "ana");
      await ctx.store.setWorkerStatus("w-1", "quiet");
      const resumed = await ctx.store.commandWorker("w-1", "resume", "bo");
      expect(resumed).toMatchObject({ status: "quiet", command: null, commandAt: null });
      expect((await ctx.store.heartbeat("w-1", [], LEASE_MS)).command).toBeNull();
      await ctx.store.setWorkerStatus("w-1", "active");
      expect(await ctx.store.getWorker("w-1")).toMatchObject({ status: "active", command: null });
      expect((await workerEvents(ctx)).map((e) => e.kind)).toEqual([
        "worker.quiet_requested",
        "worker.quieted",
        "worker.resume_requested",
        "worker.resumed",
      ]);
      // Resuming a worker asked nothing changes nothing.
      await ctx.store.commandWorker("w-1", "resume", "bo");
      expect(await workerEvents(ctx)).toHaveLength(4);
    });

    test("stop overrides quiet; quiet and resume are refused after a stop, and every command once stopped or lost", async (ctx) => {
      await ctx.store.registerWorker(registration("w-1"));
      await ctx.store.commandWorker("w-1", "quiet", "ana");
      expect(await ctx.store.commandWorker("w-1", "stop", "ana")).toMatchObject({ command: "stop" });
      expect((await ctx.store.heartbeat("w-1", [], LEASE_MS)).command).toBe("stop");
      for (const command of ["quiet", "resume"] as const) {
        const err = await rejectsWith(() => ctx.store.commandWorker("w-1", command, "bo"), "WORKER_INVALID_TRANSITION");
        expect(err.details).toMatchObject({ workerId: "w-1", command: "stop" });
      }
      await ctx.store.setWorkerStatus("w-1", "stopping");
      await ctx.store.setWorkerStatus("w-1", "stopped");
      for (const command of ["quiet", "stop", "resume"] as const) {
        await rejectsWith(() => ctx.store.commandWorker("w-1", command, "bo"), "WORKER_INVALID_TRANSITION");
      }
      // A stopped worker stays stopped, whatever late status write comes.
      await ctx.store.setWorkerStatus("w-1", "quiet");
      expect(await ctx.store.getWorker("w-1")).toMatchObject({ status: "stopped" });

      await ctx.store.registerWorker(registration("w-2"));
      ctx.clock.advance(60_000);
      expect(await ctx.store.markLostWorkers(30_000)).toEqual(["w-2"]);
      await rejectsWith(() => ctx.store.commandWorker("w-2", "quiet", "bo"), "WORKER_INVALID_TRANSITION");
      expect((await workerEvents(ctx)).map((e) => e.kind)).toEqual([
        "worker.quiet_requested",
        "worker.stop_requested",
        "worker.stopped",
        "worker.lost",
      ]);
    });

    test("commands to an unknown worker are WORKER_NOT_FOUND, and a worker with no tasks takes none", async (ctx) => {
      await rejectsWith(() => ctx.store.commandWorker("nope", "quiet", "ana"), "WORKER_NOT_FOUND");
      expect(await ctx.store.getWorker("nope")).toBeNull();
      await ctx.store.registerWorker(registration("sup", { tasks: [] }));
      await rejectsWith(() => ctx.store.commandWorker("sup", "stop", "ana"), "WORKER_INVALID_TRANSITION");
      expect(await workerEvents(ctx)).toEqual([]);
    });

    test("a quiet worker is lost like any other when it stops heartbeating, and quiet again when it comes back", async (ctx) => {
      await ctx.store.registerWorker(registration("w-1"));
      await ctx.store.commandWorker("w-1", "quiet", "ana");
      await ctx.store.setWorkerStatus("w-1", "quiet");
      ctx.clock.advance(60_000);
      expect(await ctx.store.markLostWorkers(30_000)).toEqual(["w-1"]);
      await ctx.store.heartbeat("w-1", [], LEASE_MS);
      expect(await ctx.store.getWorker("w-1")).toMatchObject({ status: "quiet", command: "quiet" });
    });

    test("heartbeats write the worker's processed and failed counts; one without counts keeps them", async (ctx) => {
      await ctx.store.registerWorker(registration("w-1"));
      await ctx.store.heartbeat("w-1", [], LEASE_MS, { processed: 12, failed: 3 });
      expect(await ctx.store.getWorker("w-1")).toMatchObject({ processed: 12, failed: 3 });
      await ctx.store.heartbeat("w-1", [], LEASE_MS);
      expect((await ctx.store.listWorkers())[0]).toMatchObject({ processed: 12, failed: 3 });
    });

    test("listWorkerJobs reads the running jobs by worker, with their tasks, held ones marked", async (ctx) => {
      const a = await ctx.add({}, { task: "a" });
      const b = await ctx.add({}, { task: "b" });
      const c = await ctx.add({}, { task: "t" });
      await ctx.add({}, { task: "t" });
      const ca = await ctx.claimOne({ workerId: "w-1", tasks: ["a"] });
      ctx.clock.advance(100);
      // Claimed ahead of a free slot: held, not started.
      await ctx.claim({ workerId: "w-1", limit: 1, start: 0, tasks: ["b"] });
      await ctx.claim({ workerId: "w-2", limit: 1, tasks: ["t"] });
      const mine = await ctx.store.listWorkerJobs("w-1");
      expect(mine).toEqual([
        { id: a.id, task: "a", queue: a.queue, workerId: "w-1", startedAt: iso(ctx.clock.now - 100), held: false },
        { id: b.id, task: "b", queue: b.queue, workerId: "w-1", startedAt: null, held: true },
      ]);
      expect((await ctx.store.listWorkerJobs(null)).map((j) => [j.id, j.workerId]).sort()).toEqual(
        [
          [a.id, "w-1"],
          [b.id, "w-1"],
          [c.id, "w-2"],
        ].sort(),
      );
      expect(await ctx.store.listWorkerJobs("w-3")).toEqual([]);
      await ctx.succeed(ca.lease);
      expect((await ctx.store.listWorkerJobs("w-1")).map((j) => j.id)).toEqual([b.id]);
    });
  });
}
