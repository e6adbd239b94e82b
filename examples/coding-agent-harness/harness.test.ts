// The README's commands, run on a copy of this folder with the built CLI, each given the test
// backend's database (SQLite, or PostgreSQL on npm test's second pass) and the copy's config: a
// run of five turns whose prompts follow the agent's logs, a message sent during a turn reaching
// the next one, the agent's question answered (from the CLI, and over the HTTP API on another
// node after the first was killed while the run waited), budgets stopping runaway runs, and a
// failed run or a question paging a webhook receiver that checks the signature.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { expect, it, onTestFinished } from "vitest";
import { cliSandbox, type WatchedProcess, watchProcess } from "../../src/test-support/cli.js";
import { testDatabase } from "../../src/test-support/test-backend.js";
import { waitFor } from "../../src/test-support/wait.js";

const cli = cliSandbox("overseer-coding-agent-");
const HOOK_SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const CONFIG = "overseer.config.yaml";

interface Page {
  title: string;
  details?: string;
}

/** A copy of the example in a temp folder, its webhook pointed at `hookPort`, and the CLI on the test database. */
async function example(hookPort = 8787) {
  const dir = cli.tempDir();
  copyFileSync(join(import.meta.dirname, "agent.mjs"), join(dir, "agent.mjs"));
  const config = readFileSync(join(import.meta.dirname, CONFIG), "utf8");
  writeFileSync(join(dir, CONFIG), config.replace("127.0.0.1:8787", `127.0.0.1:${hookPort}`));
  const { database } = await testDatabase("overseer-coding-agent-db-");
  const env = { HOOK_SECRET };
  const global = ["--database", database, "--config", CONFIG];
  const overseer = async (...args: string[]) => {
    const result = await cli.run([...global, ...args], { env });
    if (result.code !== 0) throw new Error(`overseer ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const json = async (...args: string[]) => JSON.parse(await overseer("--json", ...args));
  const worker = watchProcess(cli.start([...global, "worker", "--runs"], { env }));
  onTestFinished(async () => void (await worker.stop()));
  /** Another node: `overseer start` on a free port (API, dashboard, run supervisor); its API's base URL. */
  const node = async () => {
    const started = watchProcess(cli.start([...global, "start", "--port", "0", "--no-summary"], { env }));
    onTestFinished(async () => void (await started.stop()));
    const url = await waitFor(
      "the node's HTTP API",
      () => /HTTP API on (http:\/\/127\.0\.0\.1:\d+\/api\/v1)/.exec(started.stdout())?.[1] ?? exited(started),
      { timeoutMs: 20_000 },
    );
    return { url, process: started };
  };
  const show = async (id: string) => json("runs", "show", id);
  const until = (id: string, states: string[]) =>
    waitFor(
      `run ${id} to be ${states.join(" or ")}`,
      async () => {
        const detail = await show(id);
        return states.includes(detail.run.state) ? detail : null;
      },
      { timeoutMs: 45_000, intervalMs: 100 },
    );
  return { dir, overseer, json, show, until, worker, node };
}

/** A webhook receiver on a free port that checks each page's signature and keeps its notification. */
async function webhookReceiver(): Promise<{ pages: Page[]; port: number }> {
  const pages: Page[] = [];
  const hook = new Webhook(HOOK_SECRET);
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      pages.push((hook.verify(body, req.headers as Record<string, string>) as { notification: Page }).notification);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  return { pages, port: (receiver.address() as AddressInfo).port };
}

function exited(p: WatchedProcess): null {
  if (p.child.exitCode !== null) throw new Error(`overseer start exited early:\n${p.stderr()}`);
  return null;
}

const QUESTION = /^slugify keeps capitals, so 1 of 3 tests fail\. Should I fix slugify, or change the tests/;

it("runs the agent turn by turn from its own logs, and gives a message sent during a turn to the next one", async () => {
  const { dir, overseer, json, show, until } = await example();
  const { id } = await json("runs", "start", "coding-agent", "--params", '{"pace": 2000}');
  await waitFor("turn 2 to start", async () => ((await show(id)).run.currentTurn === 2 ? true : null), {
    timeoutMs: 30_000,
    intervalMs: 20,
  });
  expect(await overseer("runs", "message", id, "please", "also", "handle", "empty", "input")).toContain(
    "the next turn to start gets it",
  );
  // Turn 2 asks a question: the run waits for the answer, holding no process.
  expect((await until(id, ["waiting"])).run).toMatchObject({ currentTurn: 2, pid: null, workerId: null });
  const [question] = await json("approvals", "list", "--run", id, "--state", "pending");
  expect(question).toMatchObject({ kind: "question", runId: id, step: "turn-2", jobId: null });
  expect(question.title).toMatch(QUESTION);
  expect(await overseer("runs", "show", id)).toContain(
    `  after turn 2, asked ${JSON.stringify(question.title)}: waiting for an answer (overseer approvals answer ${question.id} "...")\n`,
  );
  expect(await overseer("approvals", "answer", question.id, "Fix slugify.", "--as", "ana")).toBe(
    `answered ${question.id} (${question.title.slice(0, 59)}…); run ${id} continues\n`,
  );
  const { run, messages, turns } = await until(id, ["completed", "failed"]);
  expect(await overseer("runs", "show", id)).toContain(
    `  after turn 2, asked ${JSON.stringify(question.title)}: answered by ana: Fix slugify.\n`,
  );
  expect(run).toMatchObject({
    state: "completed",
    currentTurn: 5,
    completion: { detected: "stop_file", line: "DONE", turn: 5 },
    error: null,
  });
  expect(turns.map((t: { exitCode: number }) => t.exitCode)).toEqual([0, 0, 0, 0, 0]);
  expect(messages).toMatchObject([{ body: "please also handle empty input", turn: 3 }]);

  const work = join(dir, "work", id);
  const prompt = (turn: number) => readFileSync(join(work, ".prompts", `turn-${turn}.md`), "utf8");
  expect(prompt(1)).toContain("This is turn 1 of at most 8. This is the first turn.");
  expect(prompt(1)).not.toContain("- step 1");
  for (const turn of [2, 3, 4, 5]) {
    expect(prompt(turn)).toContain(`Turn ${turn - 1} exited with code 0.`);
    expect(prompt(turn)).toContain(`- step ${turn - 1} (`);
    expect(prompt(turn)).not.toContain(`- step ${turn} (`);
  }
  // The message reached turn 3 only (it came while turn 2 ran); turn 4 still had it, from the decision log.
  expect(prompt(2)).not.toContain("empty input");
  expect(prompt(3)).toMatch(/Message from .+ at .+:\nplease also handle empty input/);
  // So did the answer; the agent kept it in its decision log, which later prompts carry.
  expect(prompt(2)).toMatch(/^Answer: $/m);
  expect(prompt(3)).toMatch(/^Answer: You asked: "slugify keeps capitals, .+"\. ana answered: "Fix slugify\."\.$/m);
  expect(prompt(4)).toMatch(/^Answer: $/m);
  expect(prompt(5)).toContain('ana answered: "Fix slugify.". Fixing slugify.');
  expect(prompt(4)).toContain("- Request from ");
  expect(prompt(4)).not.toMatch(/Message from/);
  const log = readFileSync(join(work, "agent-log.md"), "utf8");
  expect(log).toContain("- step 4 (follow-up): did what ");
  expect(log).toContain('empty input becomes "untitled"; 4 tests pass');
  expect(run.stats.tests.last).toEqual({ passed: 4, failed: 0, skipped: 0 });
  expect(run.stats.tokens.output).toBe(750);
});

it("stops runaway runs with their budget, and pages the webhook when a run fails", async () => {
  const { pages, port } = await webhookReceiver();
  const { json, show, until } = await example(port);

  const spender = await json(
    "runs",
    "start",
    "coding-agent",
    "--params",
    '{"pace": 0}',
    "--budget",
    '{"maxTokens":500}',
  );
  const stuck = await json("runs", "start", "stuck-agent");
  const spent = await until(spender.id, ["completed", "failed"]);
  expect(spent.run).toMatchObject({ state: "failed", currentTurn: 2, error: { code: "RUN_BUDGET_EXCEEDED" } });
  const idle = await until(stuck.id, ["completed", "failed"]);
  expect(idle.run).toMatchObject({
    state: "failed",
    currentTurn: 3,
    error: { code: "RUN_NO_PROGRESS", message: "3 turns in a row changed no file and passed no more tests" },
  });
  await waitFor("both pages", async () => (pages.length >= 2 ? true : null), { timeoutMs: 20_000 });
  // A failed run started again as it was: the same spec, linked both ways.
  const again = await json("runs", "rerun", spender.id);
  expect(again).toMatchObject({ rerunOf: spender.id, state: "queued", spec: spent.run.spec });
  expect((await show(spender.id)).reruns).toEqual([again.id]);
  expect(pages.map((p) => p.title).sort()).toEqual(
    [
      `Run failed: coding-agent run ${spender.id}: RUN_BUDGET_EXCEEDED`,
      `Run failed: stuck-agent run ${stuck.id}: RUN_NO_PROGRESS`,
    ].sort(),
  );
});

it("pages the question, survives the node's SIGKILL while the run waits, and another node goes on once it is answered over the API", async () => {
  const { pages, port } = await webhookReceiver();
  const { dir, overseer, json, until, worker, node } = await example(port);
  const { id } = await json("runs", "start", "coding-agent", "--params", '{"pace": 200}');
  const { run: waiting } = await until(id, ["waiting"]);
  expect(waiting).toMatchObject({ currentTurn: 2, pid: null, workerId: null });
  const token = (await overseer("tokens", "create", "--scope", "operator", "--name", "lead")).trim();
  const [question] = await json("approvals", "list", "--run", id);
  const page = await waitFor(
    "the question's page",
    () => pages.find((p) => p.title.startsWith("Question from a run: ")) ?? null,
    { timeoutMs: 20_000 },
  );
  expect(page.title).toBe(`Question from a run: ${question.title}`);
  // The node that ran turns 1 and 2 dies; nothing of the run was on it any more.
  worker.child.kill("SIGKILL");
  await waitFor("the worker to die", () => (worker.child.signalCode === "SIGKILL" ? true : null));

  const other = await node();
  const answered = await fetch(`${other.url}/approvals/${question.id}/decision`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ decision: "approve", reason: "Fix slugify; the tests are right." }),
  });
  expect(answered.status).toBe(200);
  expect((await answered.json()).approval).toMatchObject({ state: "approved", outcome: { decidedBy: "lead" } });

  const { run, turns } = await until(id, ["completed", "failed"]);
  expect(run).toMatchObject({ state: "completed", currentTurn: 5 });
  // Each turn ran once, to its end: none was lost with the node, none ran twice.
  expect(turns.map((t: { turn: number; outcome: string }) => [t.turn, t.outcome])).toEqual(
    [1, 2, 3, 4, 5].map((n) => [n, "exited"]),
  );
  const work = join(dir, "work", id);
  expect(readFileSync(join(work, ".turns.log"), "utf8")).toBe("1\n2\n3\n4\n5\n");
  expect(readFileSync(join(work, ".prompts", "turn-3.md"), "utf8")).toContain(
    'lead answered: "Fix slugify; the tests are right.".',
  );
});
