/**
 * The dashboard's runs pages end to end: Debian's Chromium, driven by playwright-core, against a
 * real `overseer start` (the built binary, a temp SQLite file, a free port) whose config's main
 * run profile is `src/test-support/run-agent.mjs`, a pretend agent that prints lines and telemetry
 * each ~1.5 s turn and stops when asked to; others read messages, ask a person a question, or edit
 * the files their profile watches. The node supervises the runs itself. Without
 * Chromium this fails, saying how to install it: it never skips. Screenshots go to
 * test-output/screenshots (git-ignored), named runs-*.png and phone-run*.png.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { controlAction, RUN_STATES } from "../core/run-state.js";
import { dashboardHarness, SHOTS } from "../test-support/dashboard-harness.js";
import { waitFor } from "../test-support/wait.js";

const AGENT = resolve(import.meta.dirname, "../test-support/run-agent.mjs");
/** A turn that records its input in inputs.log and takes 1.5 s. */
const PROMPTED = resolve(import.meta.dirname, "../engine/runs/fixtures/prompted.mjs");
/**
 * Records each turn's input in inputs.log; its first turn prints the lines it is given (here, a
 * question), a later turn stops the run.
 */
const ASK_LINES = resolve(import.meta.dirname, "../engine/runs/fixtures/ask-lines.mjs");
const QUESTION = "Which branch should the release notes target?";
/** Edits the files it watches once the test writes `.go-<turn>`: turn 1 creates them, turn 2 changes one and deletes one. */
const WATCHED_EDITS = resolve(import.meta.dirname, "../engine/runs/fixtures/watched-edits.mjs");
/** The dashboard's copy of the control rules, loaded by path so tsc leaves the browser code alone. */
const DASHBOARD_RUN_CONTROL = resolve(import.meta.dirname, "../../dashboard/src/run-control.ts");
/** The first line a turn of the agent prints, for the goal the test gives it. */
const GOAL = "tidy the docs";
const firstLine = (turn: number) => `agent turn ${turn}: working on ${GOAL}`;
/** Each line of the agent's burst: "burst line 000001 xxx…\n". */
const BURST_LINE_BYTES = "burst line 000001 ".length + 40 + 1;

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-runs-e2e-",
  prepare(dir) {
    writeFileSync(
      join(dir, "overseer.config.json"),
      JSON.stringify({
        runs: {
          profiles: {
            agent: {
              description: "A pretend agent that works in 1.5 s turns",
              command: process.execPath,
              args: [AGENT, "--goal", "{{goal}}", "--stop-after", "{{stopAfter}}", "--burst-kb", "{{burstKb}}"],
              // Relative to the config file's folder: one working folder per run.
              cwd: "work/{{runId}}",
              params: {
                goal: { type: "string", description: "what the agent works on", minLength: 3 },
                stopAfter: { type: "integer", description: "turns before it stops (0: never)", default: 0, minimum: 0 },
                burstKb: { type: "integer", description: "KiB printed at once in turn 1", default: 0, minimum: 0 },
              },
              maxTurns: 50,
              turnTimeout: "30s",
              grace: "2s",
              completion: { stopFile: ".stop" },
            },
            chat: {
              description: "An agent whose turns read the messages sent to it",
              command: process.execPath,
              args: [PROMPTED, "stdin", "--sleep=1500", "--tokens=100", "--writes"],
              cwd: "work/{{runId}}",
              input: { template: "turn {{turn}}\n{{messages}}" },
              budget: { maxTokens: 1000 },
              maxTurns: 3,
              onTurnFailure: "continue",
              completion: { stopFile: ".stop" },
            },
            asker: {
              description: "An agent that asks a question, then stops once it has the answer",
              command: process.execPath,
              args: [ASK_LINES, JSON.stringify({ overseer_event: "question", text: QUESTION })],
              cwd: "work/{{runId}}",
              input: { template: "turn {{turn}}\n{{answer}}" },
              maxTurns: 3,
              completion: { stopFile: ".stop" },
            },
            editor: {
              description: "An agent that edits the files it watches, a turn at a time",
              command: process.execPath,
              args: [WATCHED_EDITS],
              cwd: "work/{{runId}}",
              watch: ["plan.md", "scratch.txt", "build.log"],
              maxTurns: 3,
              turnTimeout: "30s",
              completion: { stopFile: ".stop" },
            },
          },
        },
      }),
    );
  },
  globalArgs: (dir) => ["--config", join(dir, "overseer.config.json")],
  // The answers these tests provoke on purpose (bad params, a viewer starting a run, a stale page's pause);
  // Chromium logs each.
  expectedHttpStatuses: [400, 403, 409],
  viewport: { width: 1280, height: 900 },
  fullPageShots: true,
});
const { request, text, eventually, shot, signIn } = e2e;
let page: Page;
let url = "";
let admin = "";
let viewer = "";
let runId = "";

// The harness's page, address and tokens under plain names, once its beforeAll has made them.
beforeAll(() => {
  ({ page, url, admin, viewer } = e2e);
});

const runOf = async (id: string) => (await request("GET", `/api/v1/runs/${id}`)).run;

const outputBox = () => page.locator("[role=log][aria-label='live output']");
/** The output box's scroll position (`any`: the test has no DOM types). */
const scroll = (): Promise<{ top: number; max: number }> =>
  outputBox().evaluate((el: any) => ({ top: el.scrollTop, max: el.scrollHeight - el.clientHeight }));

describe("the runs pages in Chromium", () => {
  it("offers the same control buttons in every state as the server's rules allow", async () => {
    const dashboard = (await import(pathToFileURL(DASHBOARD_RUN_CONTROL).href)) as {
      controlRefusal(state: string, control: string): string | null;
    };
    for (const state of RUN_STATES) {
      for (const [control, action, immediate] of [
        ["pause", "pause", false],
        ["pauseNow", "pause", true],
        ["resume", "resume", false],
        ["cancel", "cancel", false],
      ] as const) {
        const rule = controlAction(state, action, { immediate });
        const refusal = dashboard.controlRefusal(state, control);
        expect(refusal, `${control} in ${state}`).toBe(rule.ok ? null : rule.message);
      }
    }
  });

  it("starts a run from the form, showing the server's refusal of a bad param next to its field", async () => {
    await signIn(admin);
    await page.getByRole("link", { name: "Runs", exact: true }).click();
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    expect(await page.locator("#run-profile").inputValue()).toBe("agent");
    expect(await page.locator("#param-stopAfter").inputValue()).toBe("0");
    expect(await page.getByText("No runs yet: start one above.").count()).toBe(1);

    await page.locator("#param-goal").fill("ab");
    await page.getByRole("button", { name: "Start run" }).click();
    expect(await text("output[aria-label='start result']")).toMatch(/^400 INVALID_RUN_PARAMS: params\.goal /);
    expect(await text("[data-testid=problem-goal]")).toContain("at least 3 characters");
    expect(await page.locator("#param-goal").getAttribute("aria-invalid")).toBe("true");
    await shot("runs-start-refused");

    await page.locator("#param-goal").fill(GOAL);
    await page.locator("#param-burstKb").fill("300");
    await page.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/runs\/[0-9A-Za-z]+$/);
    runId = page.url().split("/").at(-1) ?? "";
    await page.locator("h1 code", { hasText: runId }).waitFor();
    expect(await runOf(runId)).toMatchObject({ profile: "agent", params: { goal: GOAL, stopAfter: 0, burstKb: 300 } });
  });

  it("shows the output live, reads skipped bytes back by range, searches, and follows only at the bottom", async () => {
    await page.locator("[data-testid=run-state] .badge", { hasText: "running" }).waitFor({ timeout: 15_000 });
    await outputBox()
      .locator(".out-line", { hasText: firstLine(1) })
      .waitFor({ timeout: 15_000 });
    await outputBox().locator(".out-turn[data-turn='1']").waitFor();

    // The burst came faster than the stream's budget: the stream skipped bytes, the page offers them.
    const gap = outputBox().locator(".out-gap").first();
    await gap.waitFor({ timeout: 15_000 });
    const label = (await gap.textContent()) ?? "";
    expect(label).toMatch(/^[\d,]+ bytes skipped — load$/);
    const from = Number(await gap.getAttribute("data-from"));
    const to = Number(await gap.getAttribute("data-to"));
    // A whole burst line inside the skipped bytes: nowhere on the page until they are loaded.
    const before = Buffer.byteLength(`${firstLine(1)}\n`);
    const inside = Math.ceil((from - before) / BURST_LINE_BYTES) + 1;
    expect(before + inside * BURST_LINE_BYTES, "a whole line fits in the gap").toBeLessThanOrEqual(to);
    const wanted = `burst line ${String(inside).padStart(6, "0")}`;
    const search = page.getByLabel("Search output");
    await search.fill(wanted);
    await page.getByText("No line matches.").waitFor();
    await search.fill("");
    await gap.getByRole("button").click();
    await search.fill(wanted);
    await outputBox().locator(".out-line mark", { hasText: wanted }).waitFor();
    expect(await text("[data-testid=output-count]")).toMatch(/^1 of [\d,]+ lines match$/);
    await shot("runs-output-search");
    await search.fill("");

    // At the bottom it follows; scrolled up it stays put while turns go on (new lines are drawn
    // below the reader, out of sight); "Jump to latest" follows again.
    await outputBox()
      .locator(".out-line", { hasText: firstLine(2) })
      .waitFor({ timeout: 15_000 });
    await eventually(scroll, (s) => s.max > 0 && s.max - s.top < 8, "the box following the output");
    expect(await text("[data-testid=follow-state]")).toBe("following");
    await outputBox().evaluate((el: any) => {
      el.scrollTop = 0;
    });
    await page.getByRole("button", { name: "↓ Jump to latest" }).waitFor();
    await page.locator("[data-testid=run-turn]", { hasText: /^3 of 50$/ }).waitFor({ timeout: 15_000 });
    expect((await scroll()).top, "the box stays where the reader scrolled").toBe(0);
    await page.getByRole("button", { name: "↓ Jump to latest" }).click();
    await outputBox()
      .locator(".out-line", { hasText: firstLine(3) })
      .waitFor({ timeout: 15_000 });
    await eventually(scroll, (s) => s.max - s.top < 8, "the box back at the bottom");
    expect(await text("[data-testid=follow-state]")).toBe("following");
  });

  it("pauses at the end of the turn, resumes into a later turn, pauses now, and cancels", async () => {
    const pause = page.getByRole("button", { name: "Pause", exact: true });
    const resume = page.getByRole("button", { name: "Resume" });
    expect(await resume.isDisabled(), "resume is not offered while running").toBe(true);
    await pause.click();
    expect(await text("output[aria-label='Pause result']")).toMatch(/^pause: now (pausing|paused)$/);
    await page.locator("[data-testid=run-state] .badge", { hasText: /^paused$/ }).waitFor({ timeout: 15_000 });
    expect(await pause.isDisabled(), "pause is not offered while paused").toBe(true);
    expect(await resume.isDisabled()).toBe(false);
    const pausedAt = (await runOf(runId)).currentTurn as number;
    expect(await text("[data-testid=run-turn]")).toBe(`${pausedAt} of 50`);
    await shot("runs-paused");
    // Paused means no turn runs: the next turn's first line does not come.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(
      await outputBox()
        .locator(".out-line", { hasText: firstLine(pausedAt + 1) })
        .count(),
    ).toBe(0);

    await resume.click();
    expect(await text("output[aria-label='Resume result']")).toBe("resume: now running");
    await page.locator("[data-testid=run-state] .badge", { hasText: /^running$/ }).waitFor();
    await outputBox()
      .locator(".out-line", { hasText: firstLine(pausedAt + 1) })
      .waitFor({ timeout: 30_000 });

    await page.getByRole("button", { name: "Pause now" }).click();
    expect(await text("output[aria-label='Pause now result']")).toBe("pause now: now paused");
    await page.locator("[data-testid=run-state] .badge", { hasText: /^paused$/ }).waitFor();
    await resume.click();
    await page.locator("[data-testid=run-state] .badge", { hasText: /^running$/ }).waitFor();

    await page.getByRole("button", { name: "Cancel" }).click();
    expect(await text("output[aria-label='Cancel result']")).toMatch(/^cancel: now (cancelling|cancelled)$/);
    await page.locator("[data-testid=run-state] .badge", { hasText: /^cancelled$/ }).waitFor({ timeout: 30_000 });
    await page.locator("[data-testid=run-stream]", { hasText: "stream ended" }).waitFor({ timeout: 30_000 });
    for (const name of ["Pause", "Pause now", "Resume", "Cancel"])
      expect(await page.getByRole("button", { name, exact: true }).isDisabled(), `${name} after the end`).toBe(true);
    expect(await text("[data-testid=run-ending]")).toContain("cancelled");
  });

  it("shows files, tests, tokens per turn and the turns, with each turn's full output a click away", async () => {
    const run = await runOf(runId);
    const turns = run.currentTurn as number;
    expect(turns).toBeGreaterThanOrEqual(4);
    expect(await text("[data-testid=run-tokens]")).toContain(`${run.stats.tokens.input + run.stats.tokens.output}`);
    const files = await page.locator("table[aria-label='files touched'] tbody").textContent();
    expect(files).toContain("notes/turn-1.md");
    expect(files).toContain("written");
    expect(files).toContain("README.md");
    const tests = page.locator("table[aria-label='test results'] tbody tr");
    expect(await tests.count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("table[aria-label='test results'] tbody").textContent()).toContain("failed");
    const chart = page.locator("figure[aria-label='Tokens per turn']");
    expect(await chart.locator("rect.series-in").count()).toBeGreaterThanOrEqual(3);
    expect(await chart.locator("figcaption").textContent()).toMatch(/[\d,]+ tokens over \d+ turns/);
    const turnRows = page.locator("table[aria-label=turns] tbody tr");
    expect(await turnRows.count()).toBe(turns);
    expect(await turnRows.first().textContent()).toContain("cancelled");
    await shot("runs-detail");
    expect(await e2e.accessibilityViolations(), "runs-detail").toEqual([]);

    await page.locator("table[aria-label=turns] tr[data-key='1'] a").click();
    await page.waitForURL(new RegExp(`/runs/${runId}/output/1$`));
    const output = await text("[data-testid=turn-output]");
    expect(output.startsWith(`${firstLine(1)}\nburst line 000001 `)).toBe(true);
    expect(output).not.toContain("overseer_event");
    await shot("runs-turn-output");
    expect(await e2e.accessibilityViolations(), "runs-turn-output").toEqual([]);
  });

  it("lists the run, filtered by state through the URL", async () => {
    await page.getByRole("link", { name: "Runs", exact: true }).click();
    const row = page.locator(`table[aria-label=runs] tr[data-key="${runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("cancelled");
    await page.getByLabel("State").selectOption("running");
    await page.waitForURL(/\/runs\?state=running$/);
    await page.getByText("No runs match these filters.").waitFor();
    await page.getByLabel("State").selectOption("finished");
    await page.waitForURL(/\/runs\?state=completed%2Cfailed%2Ccancelled$/);
    await row.waitFor();
    await shot("runs");
    expect(await e2e.accessibilityViolations(), "runs").toEqual([]);
  });

  it("fits the runs pages on a phone-sized screen without sideways page scroll", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const pages = [
        ["/runs", "Runs", "runs"],
        [`/runs/${runId}`, "Run", "run-detail"],
        [`/runs/${runId}/output/2`, "Turn 2 output", "run-turn-output"],
      ] as const;
      for (const [path, heading, name] of pages) {
        await page.goto(`${url}${path}`);
        await page.getByRole("heading", { name: heading }).first().waitFor();
        await page
          .locator("main .muted", { hasText: /^Loading/ })
          .first()
          .waitFor({ state: "detached" });
        const size: { scrollWidth: number; innerWidth: number } = await page.evaluate(
          "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
        );
        expect(size.scrollWidth, `${path} at 390 px wide`).toBeLessThanOrEqual(size.innerWidth);
        await page.screenshot({ path: join(SHOTS, `phone-${name}.png`), fullPage: true });
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("shows the server's 409 when the page is behind the run", async () => {
    const { run } = await request("POST", "/api/v1/runs", { profile: "agent", params: { goal: GOAL } });
    await waitFor("the third run to start", async () => (await runOf(run.id)).state === "running", {
      timeoutMs: 10_000,
    });
    await page.goto(`${url}/runs/${run.id}`);
    await page.locator("[data-testid=run-state] .badge", { hasText: /^running$/ }).waitFor();
    // Hold the page at "running" while the run is cancelled behind its back.
    const stale = JSON.stringify(await request("GET", `/api/v1/runs/${run.id}`));
    const detail = `${url}/api/v1/runs/${run.id}`;
    await page.route(detail, (route) => route.fulfill({ status: 200, contentType: "application/json", body: stale }));
    await request("POST", `/api/v1/runs/${run.id}/control`, { action: "cancel" });
    await waitFor("the third run to be cancelled", async () => (await runOf(run.id)).state === "cancelled", {
      timeoutMs: 10_000,
    });
    await page.getByRole("button", { name: "Pause", exact: true }).click();
    expect(await text("output[aria-label='Pause result']")).toMatch(
      /^409 RUN_INVALID_TRANSITION: cannot pause the run: it has already finished \(cancelled\)/,
    );
    await page.unroute(detail);
    await page.reload();
    await page.locator("[data-testid=run-state] .badge", { hasText: /^cancelled$/ }).waitFor();
  });

  it("sends a message from the run page that the next turn gets, and shows the budget", async () => {
    await signIn(admin);
    const { run } = await request("POST", "/api/v1/runs", { profile: "chat" });
    await page.goto(`${url}/runs/${run.id}`);
    await page.locator("[data-testid=run-turn]", { hasText: "1 of 3" }).waitFor();
    expect(await text("[data-testid=run-budget]")).toMatch(/^\d+\/1000 tokens; fails when spent$/);
    await page.getByLabel("Message for the next turn").fill("please also update the changelog");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("sent: the next turn to start gets it").waitFor();
    await page.locator("[data-testid=message-turn]", { hasText: "waiting for the next turn" }).waitFor();
    await page.locator("[data-testid=message-turn]", { hasText: /given to turn [23]/ }).waitFor({ timeout: 15_000 });
    expect(await e2e.accessibilityViolations()).toEqual([]);
    await shot("runs-message");
    await waitFor("the run to end", async () => (await runOf(run.id)).state === "failed", { timeoutMs: 20_000 });
    const inputs = readFileSync(join(e2e.dir, "work", run.id, "inputs.log"), "utf8");
    expect(inputs.match(/please also update the changelog/g)?.length).toBe(1);
    await page.locator("[data-testid=run-state] .badge", { hasText: "failed" }).waitFor();
    expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    expect(await text(".run-message-form")).toContain("Closed: the run is failed");
    expect(await page.getByText("sent: the next turn to start gets it").count()).toBe(0);

    // Rerun it: the new run's page opens, linked to the first, which lists it.
    await page.getByRole("button", { name: "Rerun" }).click();
    await page.waitForURL((u) => !u.pathname.endsWith(run.id));
    const rerunId = page.url().split("/").at(-1) ?? "";
    await page.getByRole("link", { name: run.id }).waitFor();
    expect((await runOf(rerunId)).rerunOf).toBe(run.id);
    await page.getByRole("link", { name: run.id }).click();
    await page.locator("[data-testid=run-reruns]", { hasText: rerunId }).waitFor();
    await request("POST", `/api/v1/runs/${rerunId}/control`, { action: "cancel" });
  });

  it("a viewer sees runs but the server refuses its start, and the controls say why they are off", async () => {
    // A second run, stopping by itself after two turns, for the viewer to look at.
    const { run } = await request("POST", "/api/v1/runs", { profile: "agent", params: { goal: GOAL, stopAfter: 2 } });
    await waitFor("the second run to complete", async () => (await runOf(run.id)).state === "completed", {
      timeoutMs: 20_000,
    });
    await signIn(viewer);
    await page.locator(".who", { hasText: "watcher (viewer)" }).waitFor();
    await page.goto(`${url}/runs`);
    await page.locator("#param-goal").fill(GOAL);
    await page.getByRole("button", { name: "Start run" }).click();
    expect(await text("output[aria-label='start result']")).toMatch(/^403 /);

    await page.goto(`${url}/runs/${run.id}`);
    await page.locator("[data-testid=run-state] .badge", { hasText: "completed" }).waitFor();
    expect(await text("[data-testid=run-ending]")).toMatch(/Completed by stop file: .*\.stop.* \(turn 2\)/);
    expect(await page.getByRole("button", { name: "Cancel" }).isDisabled()).toBe(true);
    expect(await text("[role=toolbar]")).toContain('needs an operator token; "watcher" is viewer');
    await outputBox()
      .locator(".out-line", { hasText: firstLine(2) })
      .waitFor();
    await shot("runs-completed-viewer");
  });

  it("shows a run's question on its page, and the answer given there reaches its next turn", async () => {
    await signIn(admin);
    const { run } = await request("POST", "/api/v1/runs", { profile: "asker" });
    await waitFor("the run to wait for an answer", async () => (await runOf(run.id)).state === "waiting", {
      timeoutMs: 15_000,
    });

    // The runs list counts a waiting run as active, and its badge stands apart from a running one's.
    await page.goto(`${url}/runs`);
    await page.getByLabel("State").selectOption("active");
    await page.waitForURL(/\/runs\?state=queued%2Crunning%2Cwaiting%2Cpausing%2Cpaused%2Ccancelling$/);
    const row = page.locator(`table[aria-label=runs] tr[data-key="${run.id}"]`);
    const badge = row.locator(".badge", { hasText: /^waiting$/ });
    await badge.waitFor();
    expect(await badge.evaluate((el: any) => (globalThis as any).getComputedStyle(el).backgroundColor)).toBe(
      "rgb(204, 251, 239)",
    );
    await row.getByRole("link", { name: run.id }).click();

    // Up front on its page: the question, what asked it, when it times out, and the answer box.
    await page.waitForURL(new RegExp(`/runs/${run.id}$`));
    const asks = page.locator("[data-testid=run-pending-requests]");
    const card = asks.locator("article.approval-card", { hasText: QUESTION });
    await card.waitFor();
    expect(await page.locator("main h2").first().textContent()).toBe("Waiting for an answer");
    expect(await card.locator(".approval-head").textContent()).toBe(`question${QUESTION}pending`);
    expect(await card.locator(".approval-meta").first().textContent()).toMatch(
      new RegExp(`^asked \\d+s ago by run ${run.id.slice(-10)} after turn 1(23h 59m|24h 0m) left, then deny$`),
    );
    expect(await card.getByRole("link", { name: run.id.slice(-10) }).getAttribute("href")).toBe(`/runs/${run.id}`);
    expect(await card.locator("[data-testid=quorum]").count(), "one answer needs no quorum bar").toBe(0);
    await page.locator("[data-testid=run-state] .badge", { hasText: /^waiting$/ }).waitFor();
    // Nothing runs while it waits: pause and resume are refused as the server would; cancel is not.
    for (const name of ["Pause", "Pause now", "Resume"]) {
      const button = page.getByRole("button", { name, exact: true });
      expect(await button.isDisabled(), `${name} while waiting`).toBe(true);
      expect(await button.getAttribute("title")).toMatch(/: it is waiting for an answer to its request/);
    }
    expect(await page.getByRole("button", { name: "Cancel", exact: true }).isDisabled()).toBe(false);
    const answer = card.getByRole("button", { name: "Answer" });
    expect(await answer.isDisabled(), "no answer typed yet").toBe(true);
    expect(await card.getByRole("button", { name: "Dismiss" }).isDisabled()).toBe(false);
    await card.getByLabel("Answer", { exact: true }).fill("the release branch, please");
    await shot("runs-question");
    expect(await e2e.accessibilityViolations(), "runs-question").toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const size: { scrollWidth: number; innerWidth: number } = await page.evaluate(
        "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
      );
      expect(size.scrollWidth, "the question at 390 px wide").toBeLessThanOrEqual(size.innerWidth);
      await page.screenshot({ path: join(SHOTS, "phone-run-question.png"), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    await answer.click();
    // The settled request leaves with its card; the page says what became of it.
    expect(await text("output[aria-label='last decision']")).toBe(`${QUESTION}: answered: the run continues`);
    // The run takes the answer into its second turn, which stops it.
    await page.locator("[data-testid=run-state] .badge", { hasText: /^completed$/ }).waitFor({ timeout: 20_000 });
    await asks.waitFor({ state: "detached" });
    const settled = page.locator("table[aria-label='settled requests'] tbody tr");
    await eventually(
      async () => settled.count(),
      (n) => n === 1,
      "the answered question among the settled requests",
    );
    expect((await settled.first().locator("td").allTextContents()).slice(0, 5)).toEqual([
      "after turn 1",
      `question ${QUESTION}`,
      "answered",
      "admin",
      "the release branch, please",
    ]);
    await shot("runs-question-answered");
    expect(await e2e.accessibilityViolations(), "runs-question-answered").toEqual([]);

    const inputs = readFileSync(join(e2e.dir, "work", run.id, "inputs.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { turn: number; input: string });
    expect(inputs).toEqual([
      { turn: 1, input: "turn 1\n" },
      {
        turn: 2,
        input: `turn 2\nYou asked: ${JSON.stringify(QUESTION)}. admin answered: "the release branch, please".`,
      },
    ]);
  });

  it("shows what each turn changed in the watched files, live, newest turn first", async () => {
    await signIn(admin);
    const { run } = await request("POST", "/api/v1/runs", { profile: "editor" });
    await waitFor("the run's first turn to start", async () => (await runOf(run.id)).currentTurn === 1, {
      timeoutMs: 10_000,
    });
    const cwd = join(e2e.dir, "work", run.id);
    await page.goto(`${url}/runs/${run.id}`);
    const panel = page.locator("section.panel", {
      has: page.getByRole("heading", { name: "Watched files per turn", level: 2 }),
    });
    await panel.getByText("No watched file has changed yet.").waitFor();
    expect(await text("[data-testid=watched-paths]")).toBe(
      "Compared before and after each turn: plan.md, scratch.txt, build.log.",
    );
    /** A file's diff in a turn, line by line with each line's part (added, removed, ...). */
    const diffOf = (turn: number, path: string) =>
      panel
        .locator(`.watch-turn[data-turn='${turn}'] .watch-file[data-path='${path}'] .watch-diff code > span`)
        .evaluateAll((spans: any[]) => spans.map((s) => `${s.className} ${s.textContent.replace(/\n$/, "")}`));
    const filesOf = (turn: number) =>
      panel
        .locator(`.watch-turn[data-turn='${turn}'] .watch-file`)
        .evaluateAll((files: any[]) => files.map((f) => f.dataset.path));

    // The page is open before the turn edits anything: what it did arrives on the run's stream.
    writeFileSync(join(cwd, ".go-1"), "");
    const turn1 = panel.locator(".watch-turn[data-turn='1']");
    await turn1.waitFor({ timeout: 15_000 });
    expect(await turn1.getByRole("heading", { level: 3 }).textContent()).toBe("Turn 1");
    expect(await filesOf(1), "watched files in the order watched; the agent's own report not among them").toEqual([
      "plan.md",
      "scratch.txt",
      "build.log",
    ]);
    expect(await diffOf(1, "plan.md")).toEqual([
      "diff-hunk @@ -0,0 +1,3 @@",
      "diff-add +# Plan",
      "diff-add +- [ ] parse the config",
      "diff-add +- [ ] write the tests",
    ]);
    expect(await text(".watch-turn[data-turn='1'] .watch-file[data-path='plan.md'] h4")).toBe(
      "plan.md3 added, 0 removed",
    );
    // 300 lines appended: more than an event keeps, so cut, said so, and scrolled in a capped box.
    const log = turn1.locator(".watch-file[data-path='build.log']");
    expect(await log.locator("h4").textContent(), "no counts of a cut diff").toBe("build.logtruncated");
    expect(await log.getByText("Truncated: the change is longer than the diff shown.").count()).toBe(1);
    const logLines = await diffOf(1, "build.log");
    expect(logLines.slice(0, 2)).toEqual(["diff-hunk @@ -0,0 +1,300 @@", "diff-add +build step 001 ok"]);
    expect(logLines.length).toBeGreaterThan(100);
    expect(logLines.length).toBeLessThan(301);
    const box = page.getByRole("region", { name: "build.log, turn 1: diff" });
    const size: { client: number; scroll: number } = await box.evaluate((el: any) => ({
      client: el.clientHeight,
      scroll: el.scrollHeight,
    }));
    expect(size.client, "a long diff is capped in height").toBeLessThan(300);
    expect(size.scroll).toBeGreaterThan(size.client);
    // The agent's own reports are files touched, not watched changes; its tail of plan.md stays
    // on the row Overseer's report of the same change shares.
    const touched = page.locator("table[aria-label='files touched'] tbody");
    expect(await touched.textContent()).toContain("notes.md");
    const planRow = touched.locator("tr", { has: page.locator("code", { hasText: /^plan\.md$/ }) });
    expect(await planRow.count(), "one row for plan.md in turn 1").toBe(1);
    expect(await planRow.locator("code").getAttribute("title")).toBe("plan.md\n…write the tests");
    expect(await panel.locator(".watch-file[data-path='notes.md']").count()).toBe(0);
    expect(await panel.locator(".watch-turn[data-turn='2']").count(), "turn 2 has not edited anything yet").toBe(0);

    writeFileSync(join(cwd, ".go-2"), "");
    await panel.locator(".watch-turn[data-turn='2']").waitFor({ timeout: 15_000 });
    expect(
      await panel.locator(".watch-turn").evaluateAll((turns: any[]) => turns.map((t) => t.dataset.turn)),
      "newest turn first",
    ).toEqual(["2", "1"]);
    expect(await filesOf(2), "build.log did not change in turn 2").toEqual(["plan.md", "scratch.txt"]);
    expect(await diffOf(2, "plan.md")).toEqual([
      "diff-hunk @@ -1,3 +1,4 @@",
      "diff-context  # Plan",
      "diff-del -- [ ] parse the config",
      "diff-add +- [x] parse the config",
      "diff-context  - [ ] write the tests",
      "diff-add +- [ ] update the docs",
    ]);
    const scratch = panel.locator(".watch-turn[data-turn='2'] .watch-file[data-path='scratch.txt']");
    expect(await scratch.locator("h4 .badge").textContent()).toBe("deleted");
    expect(await scratch.getByText("The turn deleted this file.").count()).toBe(1);
    expect(await scratch.locator(".watch-diff").count()).toBe(0);
    await page.locator("[data-testid=run-state] .badge", { hasText: /^completed$/ }).waitFor({ timeout: 15_000 });

    await panel.scrollIntoViewIfNeeded();
    await shot("runs-watched");
    expect(await e2e.accessibilityViolations(), "runs-watched").toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const width: { scrollWidth: number; innerWidth: number } = await page.evaluate(
        "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
      );
      expect(width.scrollWidth, "the watched files at 390 px wide").toBeLessThanOrEqual(width.innerWidth);
      await page.screenshot({ path: join(SHOTS, "phone-run-watched.png"), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
