/**
 * A subject's stream opened after it finished: every event of its history goes out, up to its
 * terminal one, even those the hub has not read yet (it reads after commits, on a wakeup or a
 * timer; here it is never woken), and then the stream ends.
 */
import { describe, expect, it } from "vitest";
import type { OverseerEvent } from "../../core/types.js";
import { memoryLogger } from "../../test-support/http.js";
import { TEST_BACKEND, testDatabase } from "../../test-support/test-backend.js";
import { waitFor } from "../../test-support/wait.js";
import { EventFeed, type FeedSink, resolveStart } from "./event-feed.js";
import { EventHub } from "./event-hub.js";

function collectingSink(): FeedSink & { events: OverseerEvent[]; ended: boolean } {
  const sink = {
    events: [] as OverseerEvent[],
    ended: false,
    send: (events: readonly { event: OverseerEvent }[]) => {
      sink.events.push(...events.map((e) => e.event));
    },
    buffered: () => 0,
    drained: async () => undefined,
    end: () => {
      sink.ended = true;
    },
    overflow: () => {
      throw new Error("a replay to a client that reads is never cut off");
    },
  };
  return sink;
}

describe(`a finished job's feed on ${TEST_BACKEND}`, () => {
  it("replays its events past the hub's cursor, up to the terminal one, and ends", async () => {
    const overseer = await (await testDatabase("overseer-feed-")).open();
    const log = { readEvents: overseer.readEvents.bind(overseer), lastEventSeq: () => overseer.lastEventSeq() };
    // Never woken, and its next poll is a minute away: its cursor stays where it started.
    const hub = new EventHub({
      store: { ...log, onChange: () => () => undefined },
      logger: memoryLogger().logger,
      pollMs: 60_000,
    });
    await hub.start();
    try {
      overseer.defineTask("t", async () => "done");
      const worker = overseer.worker({ pollMs: 20 });
      await worker.start();
      const job = await overseer.enqueue("t", {});
      await waitFor("the job to succeed", async () => (await overseer.getJob(job.id))?.state === "succeeded");
      await worker.stop();
      expect(hub.cursor).toBeLessThan(await overseer.lastEventSeq());

      const request = { since: null, subject: { jobId: job.id } };
      const start = await resolveStart(overseer, hub, request);
      expect(start.finished).toBe(true);
      const sink = collectingSink();
      await new EventFeed(overseer, hub, sink, { maxBufferedBytes: 1 << 20 }, request.subject, start.since).run(true);
      expect(sink.events.map((e) => e.kind)).toContain("job.succeeded");
      expect(sink.events.at(-1)?.kind).toBe("job.succeeded");
      expect(sink.ended).toBe(true);
    } finally {
      await hub.close();
    }
  });
});
