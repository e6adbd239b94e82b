// The README's commands, run as written in an empty folder: a job of send-email warns until a
// worker has registered the task, then `overseer worker --tasks examples/tasks` runs it with the
// module's handler.
import { expect, it } from "vitest";
import { cliSandbox, watchProcess } from "../../src/test-support/cli.js";
import { waitFor } from "../../src/test-support/wait.js";

const cli = cliSandbox("overseer-tasks-example-");

it("runs send-email from the tasks folder, and its log line is in the job's events", async () => {
  cli.tempDir();
  const enqueued = await cli.run(["enqueue", "send-email", "--payload", '{"to":"ada@example.com"}']);
  expect(enqueued.code).toBe(0);
  expect(enqueued.stderr).toBe(
    "warning TASK_NOT_REGISTERED: no worker has registered task 'send-email'; no worker has registered any task yet\n",
  );
  const id = /\b(01[0-9A-Z]{24})\b/.exec(enqueued.stdout)?.[1] ?? "";
  expect(id).not.toBe("");

  const worker = watchProcess(cli.start(["worker", "--tasks", import.meta.dirname]));
  const show = async () => JSON.parse((await cli.run(["--json", "jobs", "show", id])).stdout);
  await waitFor("send-email to succeed", async () => (await show()).job.state === "succeeded", { timeoutMs: 20_000 });
  expect(await worker.stop()).toBe(0);

  const { job, events } = await show();
  expect(job).toMatchObject({ task: "send-email", payload: { to: "ada@example.com" }, attempts: 1 });
  const log = events.find((e: { kind: string }) => e.kind === "job.log");
  expect(log?.data).toMatchObject({ message: "sending", to: "ada@example.com" });

  const again = await cli.run(["enqueue", "send-email", "--payload", '{"to":"bo@example.com"}']);
  expect(again.stderr, "a worker has registered it now").toBe("");
  const list = await cli.run(["jobs", "list"]);
  expect(list.stdout).toMatch(new RegExp(`${id}\\s+send-email\\s+default\\s+succeeded`));
});
