import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.js";
import { withFaults } from "../test-support/faulty-store.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { Scheduler } from "./scheduler.js";

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** An Overseer on a temp file whose store reads a clock the test moves. */
async function setup() {
  const clock = { now: T0 };
  const overseer = await tempDatabase().open({ clock: () => clock.now });
  return { clock, overseer, store: overseer.store };
}

async function ticksFired(overseer: Awaited<ReturnType<typeof setup>>["overseer"], task: string): Promise<string[]> {
  return (await overseer.listJobs({ task, limit: 1000 })).map((j) => j.runAt).sort();
}

describe("Scheduler", () => {
  it("catchUp N: after a long pause fires N missed ticks, oldest first, then the latest", async () => {
    const { clock, overseer, store } = await setup();
    const scheduler = new Scheduler(store, silentLogger);
    clock.now = T0 + 10;
    await overseer.syncSchedules({
      hourly: { cron: "0 * * * *", task: "catch", catchUp: 2 },
      skip: { cron: "0 * * * *", task: "skip", catchUp: 0 },
    });
    clock.now = T0 + HOUR + 10;
    await scheduler.pass();
    expect(await ticksFired(overseer, "catch")).toEqual([iso(T0 + HOUR)]);
    expect(await ticksFired(overseer, "skip")).toEqual([iso(T0 + HOUR)]);

    // Away for a while: ticks at 2h..6h were missed.
    clock.now = T0 + 6 * HOUR + 30 * 60_000;
    await scheduler.pass();
    expect(await ticksFired(overseer, "catch")).toEqual([
      iso(T0 + HOUR),
      iso(T0 + 4 * HOUR),
      iso(T0 + 5 * HOUR),
      iso(T0 + 6 * HOUR),
    ]);
    expect(await ticksFired(overseer, "skip")).toEqual([iso(T0 + HOUR), iso(T0 + 6 * HOUR)]);

    // A second pass, or a second scheduler, finds nothing more to do.
    await scheduler.pass();
    await new Scheduler(store, silentLogger).pass();
    expect(await overseer.countJobs()).toMatchObject({ queued: 6 });
    expect((await overseer.listSchedules()).map((s) => s.lastTickAt)).toEqual([iso(T0 + 6 * HOUR), iso(T0 + 6 * HOUR)]);
  });

  it("the first pass of a new schedule fires nothing from before it was registered", async () => {
    const { clock, overseer, store } = await setup();
    clock.now = T0 + 30 * 60_000 + 1;
    await overseer.syncSchedules({ s: { cron: "*/10 * * * *", task: "t", catchUp: 100 } });
    await new Scheduler(store, silentLogger).pass();
    expect(await overseer.countJobs()).toMatchObject({ queued: 0 });
    clock.now = T0 + 40 * 60_000;
    await new Scheduler(store, silentLogger).pass();
    expect(await ticksFired(overseer, "t")).toEqual([iso(T0 + 40 * 60_000)]);
  });

  it("jobs take the schedule's payload, queue and priority, over the task's defaults", async () => {
    const { clock, overseer, store } = await setup();
    overseer.defineTask("report", async () => undefined, { queue: "slow", maxAttempts: 7 });
    const scheduler = overseer.scheduler({
      schedules: {
        r: { cron: "* * * * * *", task: "report", payload: { kind: "daily" }, priority: "high" },
        d: { cron: "* * * * * *", task: "report", queue: "fast" },
      },
    });
    await store.syncSchedules([]);
    await scheduler.start();
    await scheduler.stop();
    clock.now = T0 + 1_000;
    await scheduler.pass();
    const jobs = await overseer.listJobs();
    const r = jobs.find((j) => j.priority === -10);
    const d = jobs.find((j) => j.queue === "fast");
    expect(r).toMatchObject({ queue: "slow", payload: { kind: "daily" }, maxAttempts: 7, runAt: iso(T0 + 1_000) });
    expect(d).toMatchObject({ priority: 0, payload: {}, maxAttempts: 7 });
  });

  it("jobs take the schedule's attempts and retry schedule, over the task's, when it runs now too", async () => {
    const { clock, overseer, store } = await setup();
    overseer.defineTask("call", async () => undefined, { maxAttempts: 7, backoff: { type: "fixed", delay: "1s" } });
    const scheduler = overseer.scheduler({
      schedules: {
        c: { cron: "* * * * * *", task: "call", maxAttempts: 4, backoff: ["1m", "5m", "15m"] },
        plain: { cron: "0 0 1 1 *", task: "call" },
      },
    });
    await store.syncSchedules([]);
    await scheduler.start();
    await scheduler.stop();
    clock.now = T0 + 1_000;
    await scheduler.pass();
    const [fired] = await overseer.listJobs();
    const schedule = { type: "schedule", delaysMs: [60_000, 300_000, 900_000], jitter: 0 };
    expect(fired).toMatchObject({ maxAttempts: 4, backoff: schedule });
    expect(await overseer.runSchedule("c")).toMatchObject({ maxAttempts: 4, backoff: schedule });
    expect(await overseer.runSchedule("plain")).toMatchObject({
      maxAttempts: 7,
      backoff: { type: "fixed", delayMs: 1_000 },
    });
    const listed = (await overseer.listSchedules()).find((s) => s.name === "c");
    expect(listed).toMatchObject({ maxAttempts: 4, backoff: ["1m", "5m", "15m"] });
  });

  it("sleeps until the next tick, at most maxSleepMs", async () => {
    const { clock, overseer, store } = await setup();
    await overseer.syncSchedules({ s: { cron: "*/10 * * * * *", task: "t" } });
    clock.now = T0 + 3_000;
    expect(await new Scheduler(store, silentLogger, { maxSleepMs: 60_000 }).pass()).toBe(7_000);
    expect(await new Scheduler(store, silentLogger).pass()).toBe(1_000);
  });

  it("a schedule that cannot fire is reported once as an event and does not stop the others", async () => {
    const { clock, overseer } = await setup();
    const { store, faults } = withFaults(overseer.store);
    await overseer.syncSchedules({ a: { cron: "* * * * * *", task: "a" }, b: { cron: "* * * * * *", task: "b" } });
    const realFire = store.fireScheduleTick.bind(store);
    const wrapped = new Proxy(store, {
      get: (target, prop) =>
        prop === "fireScheduleTick"
          ? (name: string, ...rest: [number, never]) =>
              name === "a" ? Promise.reject(new Error("disk full")) : realFire(name, ...rest)
          : Reflect.get(target, prop),
    });
    const scheduler = new Scheduler(wrapped, silentLogger);
    for (let i = 1; i <= 3; i++) {
      clock.now = T0 + i * 1_000;
      await scheduler.pass();
    }
    expect(faults.refused.size).toBe(0);
    expect(await ticksFired(overseer, "b")).toHaveLength(3);
    expect(await ticksFired(overseer, "a")).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const failures = (await overseer.readEvents()).filter((e) => e.kind === "schedule.fire_failed");
    expect(failures.map((e) => e.data)).toEqual([{ schedule: "a", code: "Error", message: "disk full" }]);
    expect(scheduler.stats).toMatchObject({ fired: 3, failures: 3 });
  });
});
