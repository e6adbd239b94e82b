// The example as a person would use it from the dashboard, in Debian's Chromium: `overseer start`
// with this folder's config (a copy, in a temp folder, with agent.mjs beside it); start a
// coding-agent run from the Runs page, send it a message from its page while it works, answer the
// question it asks there, and watch it complete with both in its later prompts.
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { dashboardHarness } from "../../src/test-support/dashboard-harness.js";

const CONFIG = "overseer.config.yaml";
// The config's webhook channel needs its secret to load; nothing listens at its address here.
process.env.HOOK_SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

const e2e = dashboardHarness({
  prefix: "overseer-coding-agent-e2e-",
  prepare(dir) {
    copyFileSync(join(import.meta.dirname, "agent.mjs"), join(dir, "agent.mjs"));
    copyFileSync(join(import.meta.dirname, CONFIG), join(dir, CONFIG));
  },
  globalArgs: (dir) => ["--config", join(dir, CONFIG)],
  expectedHttpStatuses: [],
  viewport: { width: 1280, height: 900 },
  fullPageShots: true,
});

it("starts the example's run, takes a message, answers its question in the dashboard, and completes", async () => {
  const { page, text, shot } = e2e;
  await e2e.signIn(e2e.admin);
  await page.getByRole("link", { name: "Runs", exact: true }).click();
  await page.getByRole("heading", { name: "Runs" }).waitFor();
  await page.locator("#run-profile").selectOption("coding-agent");
  await page.getByRole("button", { name: "Start run" }).click();
  await page.waitForURL(/\/runs\/[0-9A-Za-z]+$/);
  const id = page.url().split("/").at(-1) ?? "";

  // While it works: a message for its next turn (the first, if it has not started yet).
  await page.getByLabel("Message for the next turn").fill("please also handle empty input");
  await page.getByRole("button", { name: "Send" }).click();
  await page.getByText("sent: the next turn to start gets it").waitFor();

  // Turn 2 asks; the run waits, and the question is up front on its page.
  const card = page.locator("[data-testid=run-pending-requests] article.approval-card");
  await card.waitFor({ timeout: 30_000 });
  expect(await card.textContent()).toContain("Should I fix slugify, or change the tests to expect capitals?");
  await page.locator("[data-testid=run-state] .badge", { hasText: /^waiting$/ }).waitFor();
  await card.getByLabel("Answer", { exact: true }).fill("Fix slugify: the tests say what we want.");
  await shot("example-coding-agent-question");
  expect(await e2e.accessibilityViolations()).toEqual([]);
  await card.getByRole("button", { name: "Answer" }).click();
  expect(await text("output[aria-label='last decision']")).toMatch(/: answered: the run continues$/);

  await page.locator("[data-testid=run-state] .badge", { hasText: /^completed$/ }).waitFor({ timeout: 30_000 });
  await page.locator("[data-testid=message-turn]", { hasText: /given to turn [123]/ }).waitFor();
  await shot("example-coding-agent-completed");
  expect(await e2e.accessibilityViolations()).toEqual([]);

  const prompt = (turn: number) => readFileSync(join(e2e.dir, "work", id, ".prompts", `turn-${turn}.md`), "utf8");
  expect(prompt(3)).toMatch(
    /^Answer: You asked: ".+"\. admin answered: "Fix slugify: the tests say what we want\."\.$/m,
  );
  expect([1, 2, 3].map(prompt).join("")).toMatch(/Message from admin at .+:\nplease also handle empty input/);
  const log = readFileSync(join(e2e.dir, "work", id, "agent-log.md"), "utf8");
  expect(log).toContain('empty input becomes "untitled"');
});
