/**
 * A job's stream replays its whole history, even the events the hub has not read yet (it reads
 * after commits, on a wakeup or a timer; here it is woken only when the test says): opened after
 * the job finished, it ends at the terminal event; opened after a dead job was retried, it goes
 * on past the old terminal event until the job finishes again.
 */
import { describe, expect, it } from "vitest";
import { PermanentError } from "../../core/errors.js";
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

/** A job's feed from where resolveStart said, run through its replay; what it sent. */
async function runFeed(
  overseer: Awaited<ReturnType<typeof lazyHub>>["overseer"],
  hub: EventHub,
  subject: { jobId: string },
  start: { since: number; finished: boolean },
) {
  const sink = collectingSink();
  await new EventFeed(overseer, hub, sink, { maxBufferedBytes: 1 << 20 }, subject, start.since).run(start.finished);
  return sink;
}

async function lazyHub() {
  const overseer = await (await testDatabase("overseer-feed-")).open();
  const log = { readEvents: overseer.readEvents.bind(overseer), lastEventSeq: () => overseer.lastEventSeq() };
  // Never woken by commits, and its next poll is a minute away: its cursor stays put until poked.
  const hub = new EventHub({
    store: { ...log, onChange: () => () => undefined },
    logger: memoryLogger().logger,
    pollMs: 60_000,
  });
  await hub.start();
  return { overseer, hub };
}

describe(`a job's feed on ${TEST_BACKEND}`, () => {
  it("replays its events past the hub's cursor, up to the terminal one, and ends", async () => {
    const { overseer, hub } = await lazyHub();
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
      const sink = await runFeed(overseer, hub, request.subject, start);
      expect(sink.events.map((e) => e.kind)).toContain("job.succeeded");
      expect(sink.events.at(-1)?.kind).toBe("job.succeeded");
      expect(sink.ended).toBe(true);
    } finally {
      await hub.close();
    }
  });

  it("goes on past a terminal event the job has since left, and ends at its new one", async () => {
    const { overseer, hub } = await lazyHub();
    try {
      let fail = true;
      overseer.defineTask("t", async () => {
        if (fail) throw new PermanentError("not yet");
        return "done";
      });
      const job = await overseer.enqueue("t", {});
      const worker = overseer.worker({ pollMs: 20 });
      await worker.start();
      await waitFor("the job to die", async () => (await overseer.getJob(job.id))?.state === "dead");
      await worker.stop();
      await overseer.retry(job.id);
      expect(hub.cursor).toBeLessThan(await overseer.lastEventSeq());

      const request = { since: null, subject: { jobId: job.id } };
      const start = await resolveStart(overseer, hub, request);
      expect(start.finished).toBe(false);
      const sink = await runFeed(overseer, hub, request.subject, start);
      expect(sink.events.map((e) => e.kind)).toEqual([
        "job.enqueued",
        "job.started",
        "job.failed",
        "job.dead",
        "job.retried",
      ]);
      expect(sink.ended).toBe(false);
      // The hub catches up with the old history (its events are not sent twice), then the new life.
      hub.poke();
      fail = false;
      const again = overseer.worker({ pollMs: 20 });
      await again.start();
      await waitFor("the job to succeed", async () => (await overseer.getJob(job.id))?.state === "succeeded");
      await again.stop();
      hub.poke();
      await waitFor("the feed to end", () => sink.ended);
      expect(sink.events.map((e) => e.kind).slice(5)).toEqual(["job.started", "job.succeeded"]);
    } finally {
      await hub.close();
    }
  });

  it("ends when the job finished while it replayed, even with events after the terminal one", async () => {
    const { overseer, hub } = await lazyHub();
    try {
      const job = await overseer.enqueue("t", {});
      const request = { since: null, subject: { jobId: job.id } };
      const start = await resolveStart(overseer, hub, request);
      expect(start.finished).toBe(false);
      // Between the state read and the replay: the job is cancelled, and a line is logged after.
      await overseer.cancel(job.id);
      await overseer.store.appendEvents([{ kind: "job.log", jobId: job.id, data: { message: "late" } }]);
      const sink = await runFeed(overseer, hub, request.subject, start);
      expect(sink.events.map((e) => e.kind)).toEqual(["job.enqueued", "job.cancelled", "job.log"]);
      expect(sink.ended).toBe(true);
    } finally {
      await hub.close();
    }
  });
});
