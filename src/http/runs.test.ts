/**
 * /api/v1/runs over real HTTP: starting from profiles, bad input, control actions and their
 * refusals, reading output by byte range, and a run's event stream, with a real supervisor
 * running real subprocesses.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import { testApi } from "../test-support/http.js";
import { openSse } from "../test-support/sse-client.js";
import { waitFor } from "../test-support/wait.js";

const FIXTURES = resolve(import.meta.dirname, "../engine/runs/fixtures");

let work = "";
afterEach(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  work = "";
});

async function api(options: { supervise?: boolean; allowAdHoc?: boolean } = {}) {
  work = mkdtempSync(join(tmpdir(), "overseer-http-runs-"));
  const runs = parseConfig(
    {
      runs: {
        allowAdHoc: options.allowAdHoc ?? false,
        profiles: {
          agent: {
            description: "A pretend agent",
            command: process.execPath,
            args: [join(FIXTURES, "agent.mjs"), "{{turns}}", ".stop"],
            params: { turns: { type: "integer", minimum: 1, maximum: 9, default: 2 } },
            completion: { stopFile: ".stop" },
          },
          slow: {
            command: process.execPath,
            args: [join(FIXTURES, "slow-turn.mjs"), "400"],
            completion: { pattern: "never printed" },
            maxTurns: 100,
          },
          budgeted: {
            command: process.execPath,
            args: [join(FIXTURES, "prompted.mjs"), "stdin", "--tokens=700", "--writes"],
            input: { template: "turn {{turn}}: {{previous.summary}}" },
            budget: { maxTokens: 1000, deadline: "1h" },
            onTurnFailure: "continue",
            completion: { stopFile: ".never" },
          },
          asks: {
            command: process.execPath,
            args: [
              join(FIXTURES, "ask-lines.mjs"),
              JSON.stringify({ overseer_event: "question", text: "Which branch?" }),
            ],
            input: { template: "turn {{turn}}: {{answer.text}}" },
            approvals: { approvers: ["test-operator"] },
            maxTurns: 3,
            completion: { stopFile: ".stop" },
          },
          chat: {
            command: process.execPath,
            args: [join(FIXTURES, "prompted.mjs"), "stdin", "--sleep=300"],
            input: { template: "turn {{turn}}\n{{messages}}" },
            maxTurns: 2,
            onTurnFailure: "continue",
            completion: { stopFile: ".never" },
          },
        },
      },
    },
    "test",
    work,
  ).runs;
  const test = await testApi({ runs });
  if (options.supervise) test.overseer.runSupervisor({ pollMs: 100 }).start();
  return test;
}

describe("/api/v1/runs", () => {
  it("starts a run from a profile with 202, runs it, and shows it, its status, turns and output", async () => {
    const t = await api({ supervise: true });
    const profiles = await t.request("GET", "/api/v1/runs/profiles", { token: t.tokens.viewer });
    expect(profiles.body.profiles.map((p: { name: string }) => p.name)).toEqual([
      "agent",
      "slow",
      "budgeted",
      "asks",
      "chat",
    ]);
    expect(profiles.body.profiles[0]).toMatchObject({
      description: "A pretend agent",
      params: { turns: { type: "integer" } },
    });

    const started = await t.request("POST", "/api/v1/runs", {
      token: t.tokens.admin,
      body: { profile: "agent", params: { turns: 2 } },
    });
    expect(started.status).toBe(202);
    const { run } = started.body;
    expect(run).toMatchObject({ profile: "agent", state: "queued", createdBy: "test-admin", params: { turns: 2 } });
    expect(started.headers.get("location")).toBe(`/api/v1/runs/${run.id}`);

    const done = await waitFor(
      "the run to complete",
      async () => {
        const r = await t.request("GET", `/api/v1/runs/${run.id}/status`, { token: t.tokens.viewer });
        return r.body.state === "completed" ? r : null;
      },
      { timeoutMs: 15_000 },
    );
    expect(done.body).toMatchObject({
      id: run.id,
      currentTurn: 2,
      maxTurns: 10,
      pid: null,
      stats: { turns: 2, tokens: { input: 200, output: 40 } },
      completion: { detected: "stop_file", line: ".stop", turn: 2 },
      error: null,
    });
    expect(done.headers.get("etag")).toBe(`"${done.body.version}"`);

    const detail = await t.request("GET", `/api/v1/runs/${run.id}`, { token: t.tokens.viewer });
    expect(detail.body.turns.map((x: { outcome: string }) => x.outcome)).toEqual(["exited", "exited"]);
    expect(detail.body.run.spec).toMatchObject({
      command: process.execPath,
      args: [join(FIXTURES, "agent.mjs"), "2", ".stop"],
    });

    const whole = await t.request("GET", `/api/v1/runs/${run.id}/output?turn=1`, { token: t.tokens.viewer });
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(whole.text.startsWith("turn 1 of 10 starting\n")).toBe(true);
    const size = Number(whole.headers.get("x-output-size"));
    expect(size).toBe(Buffer.byteLength(whole.text));

    const part = await t.request("GET", `/api/v1/runs/${run.id}/output?turn=1`, {
      token: t.tokens.viewer,
      headers: { range: "bytes=5-9" },
    });
    expect(part.status).toBe(206);
    expect(part.text).toBe("1 of ");
    expect(part.headers.get("content-range")).toBe(`bytes 5-9/${size}`);
    const tail = await t.request("GET", `/api/v1/runs/${run.id}/output?turn=1`, {
      token: t.tokens.viewer,
      headers: { range: "bytes=-9" },
    });
    expect(tail.text).toBe(whole.text.slice(-9));
    const beyond = await t.request("GET", `/api/v1/runs/${run.id}/output?turn=1`, {
      token: t.tokens.viewer,
      headers: { range: `bytes=${size}-` },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.body.error).toMatchObject({ code: "RANGE_NOT_SATISFIABLE", details: { size } });
    const noTurn = await t.request("GET", `/api/v1/runs/${run.id}/output?turn=3`, { token: t.tokens.viewer });
    expect(noTurn.body.error.code).toBe("RUN_TURN_NOT_FOUND");
    const badRange = await t.request("GET", `/api/v1/runs/${run.id}/output?turn=1`, {
      token: t.tokens.viewer,
      headers: { range: "lines=1-2" },
    });
    expect(badRange.status).toBe(400);

    // The run's stream: its whole history, ending at run.completed.
    const sse = await openSse(`${t.url}/api/v1/runs/${run.id}/events`, { authorization: `Bearer ${t.tokens.viewer}` });
    await sse.closed;
    const kinds = sse.messages.filter((m) => m.event !== "end").map((m) => JSON.parse(m.data).kind);
    expect(kinds[0]).toBe("run.queued");
    expect(kinds.at(-1)).toBe("run.completed");
    expect(sse.messages.at(-1)?.event).toBe("end");
  });

  it("refuses an unknown profile, bad params and ad-hoc commands, storing nothing", async () => {
    const t = await api();
    const post = (body: unknown) => t.request("POST", "/api/v1/runs", { token: t.tokens.admin, body });
    const unknown = await post({ profile: "deploy" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toEqual({
      code: "RUN_PROFILE_NOT_FOUND",
      message: 'no run profile "deploy"; the profiles are agent, slow, budgeted, asks, chat',
      details: { profile: "deploy", profiles: ["agent", "slow", "budgeted", "asks", "chat"] },
    });
    const params = await post({ profile: "agent", params: { turns: 12 } });
    expect(params.status).toBe(400);
    expect(params.body.error).toMatchObject({ code: "INVALID_RUN_PARAMS", message: "params.turns must be at most 9" });
    expect((await post({ profile: "agent", params: { turns: "2" } })).body.error.message).toBe(
      'params.turns must be a number; got "2"',
    );
    expect((await post({ profile: "agent", params: "turns=2" })).status).toBe(400);
    const adHoc = await post({ command: "sh", args: ["-c", "id"], completion: { exitCode: 0 } });
    expect(adHoc.status).toBe(403);
    expect(adHoc.body.error.code).toBe("AD_HOC_RUNS_DISABLED");
    expect((await post({})).body.error.code).toBe("INVALID_ARGUMENT");
    const operator = await t.request("POST", "/api/v1/runs", { token: t.tokens.operator, body: { profile: "agent" } });
    expect(operator.status).toBe(403);
    expect((await t.overseer.listRuns()).length).toBe(0);
  });

  it("takes a run's own lower budget, refuses a higher one, and shows input, budget and progress", async () => {
    const t = await api({ supervise: true });
    const post = (body: unknown) => t.request("POST", "/api/v1/runs", { token: t.tokens.admin, body });
    const higher = await post({ profile: "budgeted", budget: { deadline: "2h" } });
    expect(higher.status).toBe(400);
    expect(higher.body.error).toEqual({
      code: "INVALID_ARGUMENT",
      message: "budget.deadline may only lower the profile's limit of 1h; got 2h",
      details: { field: "budget.deadline" },
    });
    expect((await post({ profile: "budgeted", budget: { maxTokens: "lots" } })).body.error.message).toMatch(
      /^budget\.maxTokens: /,
    );
    expect((await post({ profile: "budgeted", budget: { prices: { input: 0, output: 0 } } })).status).toBe(400);
    expect((await post({ profile: "budgeted", budget: [] })).status).toBe(400);
    expect((await t.overseer.listRuns()).length).toBe(0);

    const started = await post({ profile: "budgeted", budget: { maxTokens: 600 } });
    expect(started.status).toBe(202);
    expect(started.body.run.spec).toMatchObject({
      input: { template: "turn {{turn}}: {{previous.summary}}", via: "stdin", file: ".overseer/input.md" },
      budget: { maxTokens: 600, deadlineMs: 3_600_000, onExceeded: "fail" },
    });
    const id = started.body.run.id as string;
    const failed = await waitFor(
      "the run to spend its budget",
      async () => {
        const res = await t.request("GET", `/api/v1/runs/${id}`, { token: t.tokens.viewer });
        return res.body.run.state === "failed" ? res.body.run : null;
      },
      { timeoutMs: 15_000 },
    );
    expect(failed).toMatchObject({
      currentTurn: 1,
      error: { code: "RUN_BUDGET_EXCEEDED", message: "the run used 700 tokens; its budget is 600" },
      stats: { progress: { idleTurns: 0, bestPassed: 0 } },
    });
    const profiles = await t.request("GET", "/api/v1/runs/profiles", { token: t.tokens.viewer });
    expect(profiles.body.profiles.find((p: { name: string }) => p.name === "budgeted")).toMatchObject({
      input: { template: "turn {{turn}}: {{previous.summary}}", via: "stdin" },
      budget: { maxTokens: 1000, deadlineMs: 3_600_000, onExceeded: "fail" },
    });
  });

  it("takes messages for a run's next turn, lists them, and refuses what no turn would read", async () => {
    const t = await api();
    const start = async (profile: string) =>
      (await t.request("POST", "/api/v1/runs", { token: t.tokens.admin, body: { profile } })).body.run.id as string;
    const send = (id: string, body: unknown, token = t.tokens.operator) =>
      t.request("POST", `/api/v1/runs/${id}/messages`, { token, body });
    const chat = await start("chat");
    const sent = await send(chat, { body: "use the v2 API" });
    expect(sent.status).toBe(201);
    expect(sent.body.message).toMatchObject({ runId: chat, body: "use the v2 API", turn: null });
    expect(typeof sent.body.message.sentBy).toBe("string");
    const listed = await t.request("GET", `/api/v1/runs/${chat}/messages`, { token: t.tokens.viewer });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([sent.body.message]);

    expect((await send(chat, { body: "" })).status).toBe(400);
    expect((await send(chat, { body: "x".repeat(8_001) })).status).toBe(400);
    expect((await send(chat, { text: "hi" })).body.error.code).toBe("INVALID_ARGUMENT");
    expect((await send(chat, { body: "hi" }, t.tokens.viewer)).status).toBe(403);
    expect((await send("01NOSUCHRUN", { body: "hi" })).body.error.code).toBe("RUN_NOT_FOUND");
    expect((await t.request("GET", "/api/v1/runs/01NOSUCHRUN/messages", { token: t.tokens.viewer })).status).toBe(404);
    const quiet = await start("budgeted");
    const refused = await send(quiet, { body: "hi" });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: "RUN_TAKES_NO_MESSAGES",
      message: `run ${quiet} cannot take messages: its input template has no {{messages}}`,
      details: { id: quiet, profile: "budgeted" },
    });
    await t.request("POST", `/api/v1/runs/${chat}/control`, { token: t.tokens.operator, body: { action: "cancel" } });
    const finished = await send(chat, { body: "too late" });
    expect(finished.status).toBe(409);
    expect(finished.body.error).toMatchObject({ code: "RUN_FINISHED", details: { state: "cancelled" } });
    expect((await t.overseer.listRunMessages(chat)).length).toBe(1);
  });

  it("reruns a finished run, linked both ways, with the same spec or with new params", async () => {
    const t = await api();
    const post = (path: string, body: unknown, token = t.tokens.admin) => t.request("POST", path, { token, body });
    const source = (await post("/api/v1/runs", { profile: "agent", params: { turns: 3 } })).body.run;
    const early = await post(`/api/v1/runs/${source.id}/rerun`, {});
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: "RUN_NOT_FINISHED", details: { state: "queued" } });
    await post(`/api/v1/runs/${source.id}/control`, { action: "cancel" });

    const same = await post(`/api/v1/runs/${source.id}/rerun`, {});
    expect(same.status).toBe(202);
    expect(same.body.run).toMatchObject({
      state: "queued",
      rerunOf: source.id,
      params: { turns: 3 },
      spec: source.spec,
    });
    const changed = await post(`/api/v1/runs/${source.id}/rerun`, { params: { turns: 5 } });
    expect(changed.status).toBe(202);
    expect(changed.body.run).toMatchObject({ rerunOf: source.id, params: { turns: 5 } });
    expect(changed.body.run.spec.args).toContain("5");
    const detail = await t.request("GET", `/api/v1/runs/${source.id}`, { token: t.tokens.viewer });
    expect(detail.body.reruns).toEqual([same.body.run.id, changed.body.run.id]);
    expect(detail.body.run.rerunOf).toBeNull();

    expect((await post(`/api/v1/runs/${source.id}/rerun`, { params: { turns: 12 } })).body.error.code).toBe(
      "INVALID_RUN_PARAMS",
    );
    expect((await post(`/api/v1/runs/${source.id}/rerun`, { profile: "slow" })).status).toBe(400);
    expect((await post(`/api/v1/runs/${source.id}/rerun`, {}, t.tokens.operator)).status).toBe(403);
    expect((await post("/api/v1/runs/01NOSUCHRUN/rerun", {})).body.error.code).toBe("RUN_NOT_FOUND");
    expect((await t.overseer.listRuns()).length).toBe(3);
  });

  it("streams a turn larger than one store read, whole and by a range across reads", async () => {
    const t = await api({ supervise: true, allowAdHoc: true });
    // 2.5 MiB of numbered lines: a misplaced or repeated 1 MiB read shows in the comparison.
    const script =
      "let s='';for(let i=0;s.length<2.5*1048576;i++)s+='line '+String(i).padStart(7,'0')+'\\n';process.stdout.write(s)";
    const expected = (() => {
      let out = "";
      for (let i = 0; out.length < 2.5 * 1048576; i++) out += `line ${String(i).padStart(7, "0")}\n`;
      return out;
    })();
    const started = await t.request("POST", "/api/v1/runs", {
      token: t.tokens.admin,
      body: { command: process.execPath, args: ["-e", script], completion: { exitCode: 0 }, maxTurns: 1 },
    });
    const id = started.body.run.id as string;
    await waitFor("the run to complete", async () => (await t.overseer.getRun(id))?.state === "completed", {
      timeoutMs: 15_000,
    });
    const whole = await t.request("GET", `/api/v1/runs/${id}/output?turn=1`, { token: t.tokens.viewer });
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe(String(expected.length));
    expect(whole.text === expected).toBe(true);
    const from = (1 << 20) - 7;
    const part = await t.request("GET", `/api/v1/runs/${id}/output?turn=1`, {
      token: t.tokens.viewer,
      headers: { range: `bytes=${from}-${from + (1 << 20) + 99}` },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes ${from}-${from + (1 << 20) + 99}/${expected.length}`);
    expect(part.text === expected.slice(from, from + (1 << 20) + 100)).toBe(true);
  });

  it("takes ad-hoc commands only when the config allows them", async () => {
    const t = await api({ allowAdHoc: true });
    const res = await t.request("POST", "/api/v1/runs", {
      token: t.tokens.admin,
      body: { command: process.execPath, args: ["-e", "1"], completion: { exitCode: 0 }, maxTurns: 1 },
    });
    expect(res.status).toBe(202);
    expect(res.body.run).toMatchObject({ profile: null, spec: { args: ["-e", "1"], maxTurns: 1 } });
    // Its approvals are checked as a profile's would be: a group the config does not define could never answer.
    const refused = await t.request("POST", "/api/v1/runs", {
      token: t.tokens.admin,
      body: { command: "true", completion: { exitCode: 0 }, approvals: { approvers: ["group:leads"] } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "approvals.approvers: names group:leads, a group approvals.groups does not define (it defines none)",
    });
    const gated = await t.request("POST", "/api/v1/runs", {
      token: t.tokens.admin,
      body: { command: "true", completion: { exitCode: 0 }, approvals: { beforeFirstTurn: true } },
    });
    expect(gated.body.run).toMatchObject({
      state: "waiting",
      spec: { approvals: { beforeFirstTurn: "Start this ad-hoc run?", approvers: [], quorum: 1 } },
    });
  });

  it("lists a waiting run's question, answers it over the approvals API, and refuses pause and resume meanwhile", async () => {
    const t = await api({ supervise: true });
    const started = await t.request("POST", "/api/v1/runs", { token: t.tokens.admin, body: { profile: "asks" } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = started.body.run.id as string;
    await waitFor("the run to wait", async () => {
      const got = await t.request("GET", `/api/v1/runs/${id}`, { token: t.tokens.viewer });
      return got.body.run.state === "waiting" ? true : null;
    });
    const listed = await t.request("GET", `/api/v1/approvals?runId=${id}`, { token: t.tokens.viewer });
    expect(listed.body.items).toMatchObject([{ runId: id, jobId: null, kind: "question", title: "Which branch?" }]);
    const question = listed.body.items[0];
    const detail = await t.request("GET", `/api/v1/approvals/${question.id}`, { token: t.tokens.viewer });
    expect(detail.body).toMatchObject({ job: null, run: { id, state: "waiting", profile: "asks" } });
    for (const action of ["pause", "resume"]) {
      const refused = await t.request("POST", `/api/v1/runs/${id}/control`, {
        token: t.tokens.operator,
        body: { action },
      });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: "RUN_INVALID_TRANSITION",
        details: { state: "waiting", action },
      });
    }
    // Only the profile's approvers may answer: an admin who is not one is refused.
    const decide = `/api/v1/approvals/${question.id}/decision`;
    const body = { decision: "approve", reason: "release-2" };
    expect((await t.request("POST", decide, { token: t.tokens.admin, body })).status).toBe(403);
    const answered = await t.request("POST", decide, { token: t.tokens.operator, body });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ settled: true, approval: { state: "approved" } });
    await waitFor("the run to complete", async () => {
      const got = await t.request("GET", `/api/v1/runs/${id}`, { token: t.tokens.viewer });
      return got.body.run.state === "completed" ? got.body : null;
    });
    // In order: the request with the wait, the decision, the run handed on.
    const kinds = (await t.overseer.readEvents({ runId: id })).map((e) => e.kind);
    const asked = ["approval.requested", "run.waiting", "approval.decided", "approval.settled", "run.answered"];
    expect(kinds.filter((k) => asked.includes(k))).toEqual(asked);
    const inputs = readFileSync(join(work, "inputs.log"), "utf8").trim().split("\n");
    expect(inputs.map((l) => JSON.parse(l).input)).toEqual(["turn 1: ", "turn 2: release-2"]);
  });

  it("answers a control action the state does not allow with 409 and the state", async () => {
    const t = await api();
    const { run } = (await t.request("POST", "/api/v1/runs", { token: t.tokens.admin, body: { profile: "slow" } }))
      .body;
    const control = (body: unknown, headers: Record<string, string> = {}) =>
      t.request("POST", `/api/v1/runs/${run.id}/control`, { token: t.tokens.operator, body, headers });

    const pause = await control({ action: "pause" });
    expect(pause.status).toBe(409);
    expect(pause.body.error).toEqual({
      code: "RUN_INVALID_TRANSITION",
      message: "cannot pause the run: it has not started yet; cancel it instead",
      details: { state: "queued", action: "pause" },
    });
    expect((await control({ action: "resume", immediate: true })).status).toBe(400);
    expect((await control({ action: "stop" })).status).toBe(400);
    expect((await control({ action: "cancel" }, { "if-match": `"${run.version + 5}"` })).body.error.code).toBe(
      "VERSION_CONFLICT",
    );

    const cancelled = await control({ action: "cancel" }, { "if-match": `"${run.version}"` });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.run).toMatchObject({ state: "cancelled" });
    const again = await control({ action: "cancel" });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "RUN_INVALID_TRANSITION",
      message: "cannot cancel the run: it has already finished (cancelled); start a new run instead",
      details: { state: "cancelled", action: "cancel" },
    });

    const missing = await t.request("POST", "/api/v1/runs/01NOPE/control", {
      token: t.tokens.operator,
      body: { action: "cancel" },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("RUN_NOT_FOUND");
    expect((await t.request("GET", "/api/v1/runs/01NOPE", { token: t.tokens.viewer })).status).toBe(404);
    expect((await t.request("GET", "/api/v1/runs/01NOPE/events", { token: t.tokens.viewer })).status).toBe(404);
  });

  it("lists runs newest first with state filters and cursor paging", async () => {
    const t = await api();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await t.overseer.startRun({ profile: "slow" })).id);
    await t.overseer.controlRun(ids[1] as string, "cancel");
    const first = await t.request("GET", "/api/v1/runs?limit=2", { token: t.tokens.viewer });
    expect(first.body.items.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const next = await t.request("GET", `/api/v1/runs?limit=2&cursor=${first.body.nextCursor}`, {
      token: t.tokens.viewer,
    });
    expect(next.body).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });
    const queued = await t.request("GET", "/api/v1/runs?state=queued", { token: t.tokens.viewer });
    expect(queued.body.items.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[0]]);
    const bad = await t.request("GET", "/api/v1/runs?state=sleeping", { token: t.tokens.viewer });
    expect(bad.body.error.code).toBe("INVALID_STATE_FILTER");
  });

  it("counts the runs a filter matches, up to a cap, and filters by creation time; bad filters are 400s", async () => {
    const t = await api();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await t.overseer.startRun({ profile: "slow" })).id);
    await t.overseer.controlRun(ids[1] as string, "cancel");
    const token = t.tokens.viewer;
    const get = async (path: string) => (await t.request("GET", path, { token })).body;
    expect(await get("/api/v1/runs/count")).toEqual({ count: 3, capped: false });
    expect(await get("/api/v1/runs/count?state=queued&profile=slow")).toEqual({ count: 2, capped: false });
    expect(await get("/api/v1/runs/count?profile=other")).toEqual({ count: 0, capped: false });
    const hourAgo = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
    const ahead = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    expect(await get(`/api/v1/runs/count?createdAfter=${hourAgo}`)).toEqual({ count: 3, capped: false });
    expect(await get(`/api/v1/runs/count?createdAfter=${ahead}`)).toEqual({ count: 0, capped: false });
    expect((await get(`/api/v1/runs?createdBefore=${hourAgo}`)).items).toEqual([]);
    expect((await get(`/api/v1/runs?createdAfter=${hourAgo}&limit=1`)).items.map((r: { id: string }) => r.id)).toEqual([
      ids[2],
    ]);
    expect(await t.overseer.countMatchingRuns({}, 2)).toBe(2);
    for (const [query, code] of [
      ["state=sleeping", "INVALID_STATE_FILTER"],
      ["createdAfter=yesterday", "INVALID_ARGUMENT"],
      ["limit=5", "INVALID_ARGUMENT"],
    ] as const) {
      const res = await t.request("GET", `/api/v1/runs/count?${query}`, { token });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe(code);
    }
  });

  it("pauses, resumes and cancels a live run, and the metrics count its turns and tokens", async () => {
    const t = await api({ supervise: true });
    const { run } = (await t.request("POST", "/api/v1/runs", { token: t.tokens.admin, body: { profile: "slow" } }))
      .body;
    const control = (action: string) =>
      t.request("POST", `/api/v1/runs/${run.id}/control`, { token: t.tokens.operator, body: { action } });
    const state = async () => (await t.overseer.getRun(run.id))?.state;
    await waitFor("the run to start a turn", async () => (await t.overseer.getRun(run.id))?.pid);
    expect((await control("pause")).body.run.state).toBe("pausing");
    await waitFor("the pause", async () => (await state()) === "paused", { timeoutMs: 10_000 });
    expect((await control("resume")).body.run.state).toBe("running");
    await waitFor("the next turn", async () => ((await t.overseer.getRun(run.id))?.currentTurn ?? 0) >= 2, {
      timeoutMs: 10_000,
    });
    expect((await control("cancel")).body.run.state).toBe("cancelling");
    await waitFor("the cancel", async () => (await state()) === "cancelled", { timeoutMs: 10_000 });

    // Counted from the event log as the server's reader delivers it: wait for the last event.
    const metrics = await waitFor("the metrics to count the cancel", async () => {
      const text = (await t.request("GET", "/metrics", { token: t.tokens.metrics })).text;
      return text.includes('overseer_runs_finished_total{outcome="cancelled"} 1') ? text : null;
    });
    expect(metrics).toContain('overseer_runs{state="cancelled"} 1');
    expect(metrics).toMatch(/overseer_run_turns_total\{outcome="exited"\} [1-9]/);
    expect(metrics).toContain('overseer_run_turns_total{outcome="cancelled"} 1');
    expect(metrics).toMatch(/overseer_run_tokens_total\{direction="input"\} [1-9]\d/);
    expect(metrics).toContain('overseer_runs_finished_total{outcome="cancelled"} 1');
  });
});
