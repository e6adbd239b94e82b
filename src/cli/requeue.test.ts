/**
 * `overseer requeue --dead` through the built binary, on the database and through a server: the
 * dry run changes nothing and says why for each job; a real pass re-queues at most --max.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { startHttpServer } from "../http/server.js";
import type { Overseer } from "../sdk/overseer.js";
import { cliSandbox } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { waitFor } from "../test-support/wait.js";

const cli = cliSandbox("overseer-requeue-cli-");

async function deadJobs(o: Overseer, n: number): Promise<string[]> {
  o.defineTask("flaky", async () => {
    throw new Error("down");
  });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await o.enqueue("flaky", { i }, { maxAttempts: 1 })).id);
  const worker = o.worker({ concurrency: 4, pollMs: 20 });
  await worker.start();
  try {
    await waitFor("the jobs to die", async () =>
      (await Promise.all(ids.map((id) => o.getJob(id)))).every((j) => j?.state === "dead"),
    );
  } finally {
    await worker.stop();
  }
  return ids;
}

describe("overseer requeue --dead", () => {
  it("dry run, then a real pass, locally and through a server", async () => {
    const db = tempDatabase("overseer-requeue-");
    const o = await db.open();
    const ids = await deadJobs(o, 3);
    const operator = (await createToken(o.store, "cli-operator", "operator")).secret;
    const server = await startHttpServer({ overseer: o, port: 0 });
    onTestFinished(() => server.close());

    const dry = await cli.run(["--database", db.path, "requeue", "--dead", "--max", "2", "--dry-run"]);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("over the max of 2 re-queues per pass");
    expect(dry.stdout).toContain("dry run: would re-queue 2 of 3");
    for (const id of ids) expect((await o.getJob(id))?.state).toBe("dead");

    const local = await cli.run(["--database", db.path, "--json", "requeue", "--dead", "--max", "1", "--as", "ana"]);
    expect(local.code).toBe(0);
    expect(JSON.parse(local.stdout)).toMatchObject({ dryRun: false, requeued: 1 });
    const first = ids[0] as string;
    expect((await o.getJob(first))?.state).toBe("queued");
    const events = (await o.readEvents({ jobId: first })).filter((e) => e.kind === "job.requeued");
    expect(events.map((e) => e.data.by)).toEqual(["ana"]);

    const remote = await cli.run(["--url", server.url, "--token", operator, "requeue", "--dead", "--max", "5"]);
    expect(remote.stderr).toBe("");
    expect(remote.code).toBe(0);
    expect(remote.stdout).toContain("re-queued 2 of 2");

    const missing = await cli.run(["--database", db.path, "requeue"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--dead");
    const badAge = await cli.run(["--database", db.path, "requeue", "--dead", "--max-age", "soon"]);
    expect(badAge.code).toBe(2);
    expect(badAge.stderr).toContain("maxAge must be a duration");
  });
});
