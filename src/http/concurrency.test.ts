/**
 * GET /api/v1/concurrency over real HTTP and through the client: each key with unfinished jobs,
 * its running and waiting jobs and its limit, by name in pages or the busiest first, with the
 * totals over every key; bad paging is refused with the envelope.
 */
import { describe, expect, it } from "vitest";
import { createClient } from "../client/client.js";
import { collect } from "../client/paging.js";
import { testApi } from "../test-support/http.js";
import { deferred, waitFor } from "../test-support/wait.js";

describe("GET /api/v1/concurrency", () => {
  it("lists each key's running, waiting and limit by name, pages on, and says how many jobs full keys hold back", async () => {
    const api = await testApi();
    const release = deferred();
    api.overseer.defineTask("call", async () => release.promise);
    for (let i = 0; i < 3; i++) await api.overseer.enqueue("call", { i }, { concurrency: { key: "biz-b", limit: 1 } });
    await api.overseer.enqueue("call", {}, { concurrency: { key: "biz-a", limit: 3 } });
    await api.overseer.enqueue("call", {}, { concurrency: { key: "biz-c", limit: 2 }, delay: "1h" });
    // A key whose jobs all finished is no longer listed.
    const done = await api.overseer.enqueue("call", {}, { concurrency: { key: "biz-gone", limit: 1 } });
    await api.overseer.cancel(done.id);
    const worker = api.overseer.worker({ concurrency: 5, pollMs: 20 });
    await worker.start();
    try {
      await waitFor("two calls running", async () => (await api.overseer.busySlots())[worker.id] === 2);
      const token = api.tokens.viewer;
      const first = await api.request("GET", "/api/v1/concurrency?limit=2", { token });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        items: [
          { key: "biz-a", running: 1, waiting: 0, limit: 3 },
          { key: "biz-b", running: 1, waiting: 2, limit: 1 },
        ],
        nextCursor: expect.any(String),
        keys: 3,
        limitedJobs: 2,
      });
      const second = await api.request("GET", `/api/v1/concurrency?limit=2&cursor=${first.body.nextCursor}`, { token });
      // A scheduled job belongs to its key, though it waits for its time, not for a slot.
      expect(second.body.items).toEqual([{ key: "biz-c", running: 0, waiting: 0, limit: 2 }]);
      expect(second.body.nextCursor).toBeNull();

      const busiest = await api.request("GET", "/api/v1/concurrency?order=busiest&limit=1", { token });
      expect(busiest.body.items).toEqual([{ key: "biz-b", running: 1, waiting: 2, limit: 1 }]);
      expect(busiest.body.nextCursor).toBeNull();

      const client = createClient({ url: api.url, token });
      expect((await collect(client.concurrency.all({ pageSize: 1 }))).map((k) => k.key)).toEqual([
        "biz-a",
        "biz-b",
        "biz-c",
      ]);
      expect((await client.concurrency.list({ order: "busiest", limit: 2 })).items.map((k) => k.key)).toEqual([
        "biz-b",
        "biz-a",
      ]);
    } finally {
      release.resolve();
      await worker.stop();
    }
  });

  it("refuses a cursor it did not give, a cursor with order=busiest, and a bad limit or order", async () => {
    const api = await testApi();
    const token = api.tokens.viewer;
    const bad = async (query: string, field: string) => {
      const res = await api.request("GET", `/api/v1/concurrency?${query}`, { token });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("INVALID_ARGUMENT");
      expect(res.body.error.details.field ?? res.body.error.message).toContain(field);
    };
    await bad("cursor=not-a-cursor", "cursor");
    await bad(`cursor=${Buffer.from(JSON.stringify({ b: "x" })).toString("base64url")}`, "cursor");
    await bad("order=busiest&cursor=eyJrIjoiYSJ9", "cursor");
    await bad("limit=0", "limit");
    await bad("limit=501", "limit");
    await bad("order=loudest", "order");
    expect((await api.request("GET", "/api/v1/concurrency", { token })).body).toEqual({
      items: [],
      nextCursor: null,
      keys: 0,
      limitedJobs: 0,
    });
  });
});
