/** Schedules over HTTP against a real SQLite store, registered from config as `start --config` does. */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";

async function withSchedules() {
  const api = await testApi();
  await api.overseer.syncSchedules({
    nightly: { cron: "0 2 * * *", task: "cleanup", timezone: "Europe/Berlin", payload: { deep: true } },
    hourly: { cron: "0 * * * *", task: "report", queue: "reports" },
  });
  return api;
}

describe("schedules over HTTP", () => {
  it("lists each schedule with its cron, timezone, task, next run and last tick", async () => {
    const api = await withSchedules();
    const list = await api.request("GET", "/api/v1/schedules", { token: api.tokens.viewer });
    expect(list.status).toBe(200);
    const byName = Object.fromEntries(list.body.items.map((s: { name: string }) => [s.name, s]));
    expect(byName.nightly).toMatchObject({
      name: "nightly",
      cron: "0 2 * * *",
      timezone: "Europe/Berlin",
      task: "cleanup",
      enabled: true,
      removed: false,
      lastTickAt: null,
    });
    expect(Date.parse(byName.nightly.nextRunAt)).toBeGreaterThan(Date.now() - 1_000);
    expect(byName.hourly).toMatchObject({ task: "report", queue: "reports", timezone: "UTC" });
    // The store's bookkeeping stays inside.
    expect(byName.nightly).not.toHaveProperty("activeSince");
  });

  it("disables and enables a schedule; the flag and next run follow", async () => {
    const api = await withSchedules();
    const token = api.tokens.operator;
    const off = await api.request("POST", "/api/v1/schedules/nightly/disable", { token });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ name: "nightly", enabled: false, nextRunAt: null });
    expect((await api.overseer.listSchedules()).find((s) => s.name === "nightly")?.enabled).toBe(false);
    const on = await api.request("POST", "/api/v1/schedules/nightly/enable", { token, body: {} });
    expect(on.status).toBe(200);
    expect(on.body.enabled).toBe(true);
    expect(on.body.nextRunAt).not.toBeNull();
  });

  it("runs a schedule now: one job with its task, payload and queue, disabled or not", async () => {
    const api = await withSchedules();
    const token = api.tokens.operator;
    await api.request("POST", "/api/v1/schedules/hourly/disable", { token });
    const run = await api.request("POST", "/api/v1/schedules/hourly/run", { token });
    expect(run.status).toBe(201);
    expect(run.body).toMatchObject({ task: "report", queue: "reports", state: "queued" });
    const job = await api.overseer.getJob(run.body.id);
    expect(job?.task).toBe("report");
    const nightly = await api.request("POST", "/api/v1/schedules/nightly/run", { token });
    expect(nightly.body.payload).toEqual({ deep: true });
  });

  it("answers an unknown schedule with 404 SCHEDULE_NOT_FOUND and bad input with 400, in the envelope", async () => {
    const api = await withSchedules();
    const token = api.tokens.admin;
    for (const verb of ["enable", "disable", "run"]) {
      const res = await api.request("POST", `/api/v1/schedules/nope/${verb}`, { token });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: "SCHEDULE_NOT_FOUND", details: { name: "nope" } });
    }
    const unknownField = await api.request("POST", "/api/v1/schedules/nightly/run", { token, body: { cron: "x" } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.code).toBe("INVALID_ARGUMENT");
    const huge = await api.request("POST", `/api/v1/schedules/${"x".repeat(300)}/enable`, { token });
    expect(huge.status).toBe(400);
    expect(await api.overseer.listJobs({})).toHaveLength(0);
  });

  it("lets a viewer read but not steer", async () => {
    const api = await withSchedules();
    const res = await api.request("POST", "/api/v1/schedules/nightly/run", { token: api.tokens.viewer });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
  });

  it("shows a removed schedule as removed, with no next run", async () => {
    const api = await withSchedules();
    await api.overseer.syncSchedules({ hourly: { cron: "0 * * * *", task: "report", queue: "reports" } });
    const list = await api.request("GET", "/api/v1/schedules", { token: api.tokens.viewer });
    expect(list.body.items.find((s: { name: string }) => s.name === "nightly")).toMatchObject({
      removed: true,
      nextRunAt: null,
    });
  });
});
