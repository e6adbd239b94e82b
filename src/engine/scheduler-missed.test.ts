import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { Scheduler } from "./scheduler.js";

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

describe("Scheduler: missed ticks", () => {
  it("appends schedule.missed once for the ticks skipped beyond catchUp, and nothing when none were", async () => {
    const clock = { now: T0 + 10 };
    const overseer = await tempDatabase().open({ clock: () => clock.now });
    await overseer.syncSchedules({
      hourly: { cron: "0 * * * *", task: "report", catchUp: 1 },
    });
    const first = new Scheduler(overseer.store, silentLogger);
    const second = new Scheduler(overseer.store, silentLogger);
    clock.now = T0 + HOUR + 10;
    await first.pass();
    const missed = async () => (await overseer.readEvents()).filter((e) => e.kind === "schedule.missed");
    expect(await missed()).toEqual([]);

    // Down from 1h to 6h30: catchUp fires 5h and 6h; 2h, 3h and 4h were skipped. Two schedulers, one report.
    clock.now = T0 + 6 * HOUR + 30 * 60_000;
    await first.pass();
    await second.pass();
    const events = await missed();
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toEqual({
      schedule: "hourly",
      missed: 3,
      first: new Date(T0 + 2 * HOUR).toISOString(),
      last: new Date(T0 + 4 * HOUR).toISOString(),
    });
  });
});
