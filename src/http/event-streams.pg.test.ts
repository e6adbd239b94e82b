/**
 * The event streams on PostgreSQL, with the work done by another node: one Overseer serves the
 * API, a second one on the same schema (another process or machine, as far as the server can
 * tell) enqueues and runs jobs. Every event reaches the SSE client once and in order, including
 * a resume mid-run, and the metrics count the other node's jobs.
 */
import { expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { pgSchemas } from "../test-support/pg-schema.js";
import { openSse } from "../test-support/sse-client.js";
import { waitFor } from "../test-support/wait.js";
import { startHttpServer } from "./server.js";

const testSchema = pgSchemas();

it("streams another node's events in order and resumes without gaps or repeats", async () => {
  const db = await testSchema();
  const serving = await db.open();
  const other = await db.open();
  const { secret } = await createToken(serving.store, "viewer", "viewer");
  const metrics = (await createToken(serving.store, "scraper", "metrics")).secret;
  const server = await startHttpServer({ overseer: serving, port: 0 });
  onTestFinished(() => server.close());
  const base = await serving.store.lastEventSeq();
  const auth = { authorization: `Bearer ${secret}` };
  const first = await openSse(`${server.url}/api/v1/events?since=${base}`, auth);

  other.defineTask("t", async () => "ok");
  const worker = other.worker({ concurrency: 8 });
  await worker.start();
  const run = (async () => {
    for (let i = 0; i < 10; i++) {
      await other.enqueueMany(Array.from({ length: 20 }, (_, j) => ({ task: "t", payload: { i, j } })));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await first.untilMessages(50);
  first.close();
  const got = first.seqs();
  const resumed = await openSse(`${server.url}/api/v1/events`, { ...auth, "last-event-id": String(got.at(-1)) });
  await run;
  await waitFor("every job to finish", async () => (await other.countJobs()).succeeded === 200, { timeoutMs: 20_000 });
  await worker.stop();
  const last = await serving.store.lastEventSeq();
  await waitFor("the resumed stream to catch up", () => [...got, ...resumed.seqs()].at(-1) === last, {
    timeoutMs: 20_000,
  });
  const all: number[] = [];
  for (let after = base; ; ) {
    const page = await serving.readEvents({ afterSeq: after, limit: 1_000 });
    if (page.length === 0) break;
    all.push(...page.map((e) => e.seq));
    after = page.at(-1)?.seq ?? after;
  }
  expect([...got, ...resumed.seqs()]).toEqual(all);
  await waitFor("the metrics to count the other node's jobs", async () => {
    server.events.poke();
    await server.metrics.settled();
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metrics}` } });
    return (await res.text()).includes(
      'overseer_jobs_finished_total{task="t",queue="default",outcome="succeeded"} 200',
    );
  });
});
