/**
 * The dashboard on a phone and to a keyboard, end to end: Debian's Chromium, driven by
 * playwright-core, against a real `overseer start` seeded so that every page has something to
 * show (a job in each state, runs, an approval, an alert, a schedule, the node's worker). Every
 * route of dashboard/src/app.tsx is walked at 1440x900 and 390x844, in light and dark mode:
 * each has an h1 and no serious or critical axe-core violation, none scrolls sideways on a phone,
 * where Jobs, Schedules and Runs are cards showing state and error and a run's controls sit in the
 * first screen. Then the skip link, the `?` list of shortcuts, `g j`, `/` and Tab into a
 * scrolling box. Screenshots go to test-output/screenshots (git-ignored), named a11y-*.png.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { dashboardHarness, pageLoaded } from "../test-support/dashboard-harness.js";
import { waitFor } from "../test-support/wait.js";

const AGENT = resolve(import.meta.dirname, "../test-support/run-agent.mjs");
const APP = resolve(import.meta.dirname, "../../dashboard/src/app.tsx");
const WIDE = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const DEAD_ERROR = "the disk quota is exceeded";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-a11y-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(join(dir, "tasks", "ok.mjs"), "export default async function () { return { ok: true }; }\n");
    writeFileSync(
      join(dir, "tasks", "fail.mjs"),
      `export default async function () { throw new Error(${JSON.stringify(DEAD_ERROR)}); }
export const defaults = { maxAttempts: 1 };
`,
    );
    writeFileSync(
      join(dir, "tasks", "hold.mjs"),
      `export default async function (payload, ctx) {
  await new Promise((resolve, reject) => {
    ctx.signal.addEventListener("abort", () => reject(new Error("aborted")));
  });
}
`,
    );
    writeFileSync(
      join(dir, "tasks", "deploy.mjs"),
      `export default async function (payload, ctx) {
  const decision = await ctx.requestApproval({
    title: "Deploy " + payload.service + " to production",
    details: { service: payload.service, command: "kubectl rollout restart deployment/" + payload.service },
    risk: "high",
    timeout: "1h",
    onTimeout: "deny",
  });
  return { approved: decision.approved };
}
`,
    );
    writeFileSync(
      join(dir, "overseer.config.json"),
      JSON.stringify({
        schedules: { "nightly-report": { cron: "0 2 1 1 *", task: "ok", payload: {} } },
        alerts: {
          channels: { log: { type: "console" } },
          policies: { ops: { steps: [{ delay: "0s", notify: ["log"] }], repeat: 0 } },
        },
        runs: {
          profiles: {
            agent: {
              description: "A pretend agent that works in 1.5 s turns",
              command: process.execPath,
              args: [AGENT, "--goal", "tidy the docs", "--stop-after", "{{stopAfter}}", "--turn-ms", "{{turnMs}}"],
              cwd: "work/{{runId}}",
              params: {
                stopAfter: { type: "integer", default: 0, minimum: 0 },
                turnMs: { type: "integer", default: 1500, minimum: 0 },
              },
              maxTurns: 50,
              turnTimeout: "15m",
              grace: "2s",
              completion: { stopFile: ".stop" },
            },
            broken: {
              description: "A command that does not exist: the run fails to start",
              command: join(dir, "no-such-agent"),
              cwd: "work/{{runId}}",
              maxTurns: 1,
              completion: { exitCode: 0 },
            },
          },
        },
      }),
    );
  },
  globalArgs: (dir) => ["--config", join(dir, "overseer.config.json")],
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  expectedHttpStatuses: [404],
  viewport: WIDE,
});
const { request, shot, signIn } = e2e;
let page: Page;
let url = "";

/** The ids the routes' parameters take, once seeded. */
const ids: Record<string, string> = {};
/** The seeded jobs whose states the tests wait for. */
const waited: string[] = [];

const enqueue = async (task: string, payload: unknown, options: object = {}): Promise<string> =>
  (await request("POST", "/api/v1/jobs", { task, payload, options })).id;
const jobState = async (id: string): Promise<string> => (await request("GET", `/api/v1/jobs/${id}`)).job.state;
const runState = async (id: string): Promise<string> => (await request("GET", `/api/v1/runs/${id}`)).run.state;

beforeAll(async () => {
  ({ page, url } = e2e);
  // A job in each state: succeeded, dead (with its error), running, scheduled, queued (no worker
  // has its task), cancelled, and one waiting for an approval.
  const dead = await enqueue("fail", {});
  ids.job = dead;
  waited.push(await enqueue("ok", {}), dead, await enqueue("hold", {}));
  await enqueue("ok", {}, { delay: "1h" });
  await enqueue("unregistered-task", {});
  await request("POST", `/api/v1/jobs/${await enqueue("ok", {}, { delay: "2h" })}/cancel`);
  await enqueue("deploy", { service: "billing" });
  await waitFor("the jobs to settle", async () => {
    const states = await Promise.all(waited.map(jobState));
    return states.join() === "succeeded,dead,running";
  });
  // Runs: one working on a long first turn (its controls live), one finished after a turn, one
  // that failed to start.
  const run: string = (await request("POST", "/api/v1/runs", { profile: "agent", params: { turnMs: 600_000 } })).run.id;
  const finished: string = (await request("POST", "/api/v1/runs", { profile: "agent", params: { stopAfter: 1 } })).run
    .id;
  const broken: string = (await request("POST", "/api/v1/runs", { profile: "broken" })).run.id;
  ids.run = run;
  ids.finishedRun = finished;
  await waitFor(
    "the runs to settle",
    async () => {
      const states = await Promise.all([run, finished, broken].map(runState));
      return states[0] === "running" && states[1] === "completed" && !["queued", "running"].includes(states[2] ?? "");
    },
    { timeoutMs: 20_000 },
  );
  await waitFor("the approval to be asked", async () => {
    ids.approval = (await request("GET", "/api/v1/approvals?state=pending")).items[0]?.id;
    return ids.approval !== undefined;
  });
  ids.alert = (
    await request("POST", "/api/v1/alerts", { summary: "disk almost full on db-1", policy: "ops" })
  ).alert.id;
  // The worker holding the "hold" job.
  ids.worker = (await request("GET", "/api/v1/workers")).items.find(
    (w: { runningJobs: string[] }) => w.runningJobs.length > 0,
  )?.id;
}, 60_000);

/** Every route of the dashboard's routing table, with its parameters filled from the seeded ids. */
function routes(): string[] {
  const patterns = [...readFileSync(APP, "utf8").matchAll(/\{\s*path: "([^"]+)"/g)].map((m) => m[1] ?? "");
  expect(patterns.length, "app.tsx's ROUTES read").toBeGreaterThan(10);
  const paths = patterns.map((pattern) =>
    pattern.replace(/:(\w+)/g, (_all, name: string) => {
      const value = pattern.startsWith("/runs/") && name === "id" ? ids.run : name === "turn" ? "1" : undefined;
      const byKind = ids[pattern.split("/")[1]?.replace(/s$/, "") ?? ""];
      const id = value ?? byKind;
      if (!id) throw new Error(`no seeded value for ${name} in ${pattern}: seed one in this test`);
      return id;
    }),
  );
  // The finished run has turn 1's output; the working one may not have finished its first turn.
  return [
    ...paths.map((p) => p.replace(`/runs/${ids.run}/output/1`, `/runs/${ids.finishedRun}/output/1`)),
    "/no-such-page",
  ];
}

/** Opens `path` in the app (no reload once it runs) and waits for its h1 and its parts. */
async function open(path: string): Promise<void> {
  await page.goto(`${url}${path}`);
  await page.locator("main h1").first().waitFor();
  await pageLoaded(page, path);
}

/**
 * Each chart legend entry's contrast against its chart: its label's text colour, its swatch's
 * fill. Run in the page (a string, since the tests have no DOM types).
 */
const LEGEND_CONTRAST = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  return [...document.querySelectorAll("figure.chart .legend-item")].map((el) => {
    const background = getComputedStyle(el.closest("figure")).backgroundColor;
    return {
      name: el.textContent,
      text: ratio(getComputedStyle(el).color, background),
      swatch: ratio(getComputedStyle(el, "::before").backgroundColor, background),
    };
  });
})()`;

const overflow = (): Promise<{ scrollWidth: number; innerWidth: number }> =>
  page.evaluate("({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })");

describe("the dashboard on a phone and to a keyboard", () => {
  it("shows the sign-in page with an h1 and no serious axe violation, then signs in", async () => {
    await page.goto(`${url}/`);
    try {
      for (const colorScheme of ["light", "dark"] as const) {
        for (const viewport of [WIDE, PHONE]) {
          await page.emulateMedia({ colorScheme });
          await page.setViewportSize(viewport);
          await page.locator("#token").waitFor();
          expect(await page.locator("h1").count()).toBe(1);
          expect(
            await e2e.accessibilityViolations(["serious", "critical"]),
            `sign-in, ${colorScheme}, ${viewport.width} px`,
          ).toEqual([]);
        }
      }
    } finally {
      await page.emulateMedia({ colorScheme: "light" });
      await page.setViewportSize(WIDE);
    }
    await signIn(e2e.admin);
  });

  for (const colorScheme of ["light", "dark"] as const) {
    for (const viewport of [WIDE, PHONE]) {
      it(`has an h1 and no serious axe violation on every page, ${colorScheme}, at ${viewport.width}x${viewport.height}`, async () => {
        await page.emulateMedia({ colorScheme });
        await page.setViewportSize(viewport);
        try {
          for (const path of routes()) {
            await open(path);
            expect(await page.locator("h1").count(), `${path}: one h1`).toBeGreaterThanOrEqual(1);
            expect(
              await e2e.accessibilityViolations(["serious", "critical"]),
              `${path}, ${colorScheme}, ${viewport.width} px`,
            ).toEqual([]);
            if (viewport === PHONE) {
              const size = await overflow();
              expect(size.scrollWidth, `${path} scrolls sideways at 390 px`).toBeLessThanOrEqual(size.innerWidth);
            }
          }
          await open("/");
          await shot(`a11y-overview-${colorScheme}-${viewport.width}`);
        } finally {
          await page.emulateMedia({ colorScheme: "light" });
          await page.setViewportSize(WIDE);
        }
      });
    }
  }

  for (const viewport of [WIDE, PHONE]) {
    it(`draws chart legends at AA contrast in light and dark at ${viewport.width} px`, async () => {
      await page.setViewportSize(viewport);
      try {
        for (const colorScheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme });
          await open("/");
          await page.locator("figure.chart .legend-item").first().waitFor();
          const legends: Array<{ name: string; text: number; swatch: number }> = await page.evaluate(LEGEND_CONTRAST);
          expect(legends.length).toBeGreaterThanOrEqual(5);
          for (const l of legends) {
            expect(l.text, `${colorScheme}: ${l.name}'s label`).toBeGreaterThanOrEqual(4.5);
            // A swatch is a graphic: WCAG asks 3:1 of it against what surrounds it.
            expect(l.swatch, `${colorScheme}: ${l.name}'s swatch`).toBeGreaterThanOrEqual(3);
          }
        }
      } finally {
        await page.emulateMedia({ colorScheme: "light" });
        await page.setViewportSize(WIDE);
      }
    });
  }

  it("uses the dark palette when the system asks for it", async () => {
    await open("/jobs");
    const background = () => page.evaluate("getComputedStyle(document.body.parentElement).backgroundColor");
    expect(await background()).toBe("rgb(245, 246, 248)");
    await page.emulateMedia({ colorScheme: "dark" });
    try {
      expect(await background()).toBe("rgb(12, 17, 29)");
    } finally {
      await page.emulateMedia({ colorScheme: "light" });
    }
  });

  for (const viewport of [WIDE, PHONE]) {
    const phone = viewport === PHONE;
    it(`shows Jobs, Runs and Schedules with state and error ${phone ? "as cards" : "as tables"} at ${viewport.width} px`, async () => {
      await page.setViewportSize(viewport);
      try {
        await open("/jobs");
        const dead = page.locator(`table[aria-label=jobs] tr[data-key="${ids.job}"]`);
        await dead.waitFor();
        for (const [table, key, state, error] of [
          ["jobs", ids.job, "dead", DEAD_ERROR],
          ["runs", ids.run, "running", null],
          ["schedules", "nightly-report", "enabled", null],
        ] as const) {
          if (table !== "jobs") await open(`/${table}`);
          const row = page.locator(`table[aria-label=${table}] tr[data-key="${key}"]`);
          await row.waitFor();
          const cells = row.locator("td[data-label]");
          const stateCell = cells.filter({ hasText: state }).first();
          await expect.poll(() => stateCell.isVisible(), { message: `${table}: ${key}'s state shows` }).toBe(true);
          if (error) {
            const errorCell = row.locator('td[data-label="Last error"]');
            expect(await errorCell.textContent()).toContain(error);
            // The card shows the whole message; the wide table clips it with an ellipsis, the rest in its title.
            if (phone) {
              const box = await errorCell.boundingBox();
              expect(box?.width ?? 0, "the error's cell fits the screen").toBeLessThanOrEqual(viewport.width);
            }
          }
          // A card stacks its cells: each sits below the one before, labelled by its header.
          const display = await row.evaluate((tr) => tr.ownerDocument.defaultView?.getComputedStyle(tr).display);
          expect(display, `${table}'s rows`).toBe(phone ? "block" : "table-row");
          if (phone) {
            const label = await cells
              .first()
              .evaluate((td) => td.ownerDocument.defaultView?.getComputedStyle(td, "::before").content);
            expect(label).not.toBe("none");
            const size = await overflow();
            expect(size.scrollWidth, `${table} at 390 px`).toBeLessThanOrEqual(size.innerWidth);
            await shot(`a11y-phone-${table}`);
          }
        }
        await open("/runs");
        const failed = page.locator("table[aria-label=runs] td[data-label=Error] .error").first();
        await failed.waitFor();
        expect(await failed.isVisible()).toBe(true);
      } finally {
        await page.setViewportSize(WIDE);
      }
    });

    it(`puts a run's controls in the first screen at ${viewport.width}x${viewport.height}`, async () => {
      await page.setViewportSize(viewport);
      try {
        await open(`/runs/${ids.run}`);
        const toolbar = page.getByRole("toolbar", { name: "run actions" });
        await toolbar.getByRole("button").first().waitFor();
        const box = await toolbar.boundingBox();
        expect(box, "the run's controls").not.toBeNull();
        expect((box?.y ?? 0) + (box?.height ?? 0), "the controls' bottom edge").toBeLessThanOrEqual(viewport.height);
        expect(
          await toolbar
            .getByRole("button", { name: /^Cancel/ })
            .first()
            .isEnabled(),
        ).toBe(true);
        if (viewport === PHONE) await shot("a11y-phone-run");
      } finally {
        await page.setViewportSize(WIDE);
      }
    });

    it(`works from the keyboard at ${viewport.width} px: skip link, ?, g j, /, Tab into a scrolling box`, async () => {
      await page.setViewportSize(viewport);
      try {
        await open("/");
        // The skip link is the first thing Tab reaches, and takes the focus to the content.
        await page.locator("body").focus();
        await page.keyboard.press("Tab");
        expect(await page.evaluate("document.activeElement.textContent")).toBe("Skip to content");
        expect(await page.getByRole("link", { name: "Skip to content" }).isVisible()).toBe(true);
        await page.keyboard.press("Enter");
        expect(await page.evaluate("document.activeElement.id")).toBe("main");

        // ? lists the shortcuts in a modal dialog; Escape closes it.
        await page.keyboard.press("?");
        const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
        await dialog.waitFor();
        expect(await dialog.textContent()).toContain("Go to Jobs");
        expect(await e2e.accessibilityViolations(["serious", "critical"]), "the shortcuts dialog").toEqual([]);
        if (viewport === PHONE) await shot("a11y-phone-shortcuts");
        await page.keyboard.press("Escape");
        await dialog.waitFor({ state: "hidden" });

        // g then j goes to the jobs; / focuses its filter box, and keys typed there stay there.
        await page.keyboard.press("g");
        await page.keyboard.press("j");
        await page.waitForURL(/\/jobs$/);
        await page.getByRole("heading", { name: "Jobs" }).waitFor();
        await page.keyboard.press("/");
        const focused = () => page.evaluate("document.activeElement.closest('form.filters') !== null");
        expect(await focused(), "/ focused a filter").toBe(true);
        await page.keyboard.press("Escape");
        await page.evaluate("document.activeElement.blur()");

        // In a text field, g and a letter are text.
        const text = page.getByLabel("Text", { exact: true });
        await text.focus();
        await page.keyboard.type("gr");
        expect(page.url()).toMatch(/\/jobs$/);
        expect(await text.inputValue()).toBe("gr");
        await text.fill("");

        // A scrolling box (a job's payload) is reached by Tab and named.
        await open(`/jobs/${ids.job}`);
        const box = page.locator("figure[aria-label=Payload] pre");
        await box.waitFor();
        let reached = false;
        for (let i = 0; i < 60 && !reached; i++) {
          await page.keyboard.press("Tab");
          reached = await box.evaluate((el) => el === el.ownerDocument.activeElement);
        }
        expect(reached, "Tab reaches the payload's box").toBe(true);
        expect(await box.getAttribute("aria-label")).toBe("Payload, as JSON");
      } finally {
        await page.setViewportSize(WIDE);
      }
    });
  }
});
