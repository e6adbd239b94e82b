/**
 * /metrics as Prometheus and its tools read it: every family well-formed and named by the
 * conventions (`promtool check metrics` finds nothing), and every family documented in the
 * metrics tables of docs/http-api.md, which list no family the server does not expose.
 *
 * promtool is used when there is one: the PROMTOOL environment variable, or `promtool` on the
 * PATH. Where it is required (CI set, as .ci/run runs, or OVERSEER_REQUIRE_PROMTOOL=1), a missing
 * promtool fails the test; .ci/run fetches it and sets PROMTOOL. The same rules are also checked
 * in-process (test-support/prometheus-text.ts), so a machine without promtool still checks the
 * scrape rather than passing without looking.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { parseConfig } from "../config/config.js";
import { PermanentError } from "../core/errors.js";
import { pendingApproval } from "../test-support/approvals.js";
import { testApi } from "../test-support/http.js";
import { expositionProblems, parseFamilies } from "../test-support/prometheus-text.js";
import { testDatabase } from "../test-support/test-backend.js";
import { deferred, waitFor } from "../test-support/wait.js";
import { startWebhookReceiver } from "../test-support/webhook-receiver.js";

const HOOK_SECRET = "exposition-hook-secret";
/** Whether a missing promtool fails the check rather than leaving it to the in-process rules. */
const PROMTOOL_REQUIRED =
  process.env.OVERSEER_REQUIRE_PROMTOOL === "1" || !["", "0", "false", undefined].includes(process.env.CI);
const DOCS = join(import.meta.dirname, "..", "..", "docs", "http-api.md");

/** promtool's path: $PROMTOOL (which must then work), else the first on the PATH, else null. */
function findPromtool(): string | null {
  const fromEnv = process.env.PROMTOOL;
  if (fromEnv) {
    accessSync(fromEnv, constants.X_OK);
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "promtool");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder; look in the next.
    }
  }
  return null;
}

/** The families the control plane adds, each of which the busy server below gives samples. */
const CONTROL_PLANE_FAMILIES = [
  "overseer_jobs_requeued_total",
  "overseer_idempotency_hits_total",
  "overseer_approvals_pending",
  "overseer_approvals_settled_total",
  "overseer_approval_decision_seconds",
  "overseer_alerts_open",
  "overseer_alert_escalations_total",
  "overseer_alert_notifications_total",
  "overseer_concurrency_keys",
  "overseer_concurrency_limited_jobs",
  "overseer_concurrency_key_running",
  "overseer_concurrency_key_waiting",
  "overseer_concurrency_key_limit",
  "overseer_worker_busy_slots",
  "overseer_worker_slots",
  "overseer_worker_utilization_ratio",
];

/**
 * A scrape of a real server holding jobs queued, scheduled, running, retried, succeeded, dead,
 * cancelled and re-queued, an idempotent repeat, a full concurrency key, approvals pending and
 * decided, and an alert sent through a webhook.
 */
async function scrapeBusyServer(): Promise<string> {
  const hook = await startWebhookReceiver(HOOK_SECRET);
  onTestFinished(() => hook.close());
  process.env.EXPOSITION_HOOK_SECRET = HOOK_SECRET;
  onTestFinished(() => {
    delete process.env.EXPOSITION_HOOK_SECRET;
  });
  const { alerts } = parseConfig(
    {
      alerts: {
        channels: {
          ops: {
            type: "webhook",
            url: hook.url,
            secret: "env:EXPOSITION_HOOK_SECRET",
            timeout: "2s",
            bundle: { window: 0 },
          },
        },
        policies: { page: { steps: [{ delay: "0s", notify: ["ops"] }] } },
      },
    },
    "test",
  );
  const api = await testApi({ open: async (o) => (await testDatabase("overseer-http-")).open({ ...o, alerts }) });
  const release = deferred();
  api.overseer.defineTask("ok", async () => "fine");
  api.overseer.defineTask("bad", async () => {
    throw new PermanentError("no");
  });
  api.overseer.defineTask("broken", async () => {
    throw new Error("down");
  });
  api.overseer.defineTask("flaky", async (_p, ctx) => {
    if (ctx.attempt === 1) throw new Error("once");
  });
  api.overseer.defineTask("slow", async () => release.promise);
  await api.overseer.enqueue("ok", {}, { queue: "mail" });
  await api.overseer.enqueue("ok", {}, { queue: "mail", idempotencyKey: "once" });
  await api.overseer.enqueue("ok", {}, { queue: "mail", idempotencyKey: "once" });
  await api.overseer.enqueue("bad");
  const broken = await api.overseer.enqueue("broken", {}, { maxAttempts: 1 });
  await api.overseer.enqueue("flaky", {}, { backoff: { type: "fixed", delay: 1 } });
  const slow = await api.overseer.enqueue("slow", {}, { concurrency: { key: "account-1", limit: 1 } });
  await api.overseer.enqueue("slow", {}, { concurrency: { key: "account-1", limit: 1 } });
  await api.overseer.enqueue("later", {}, { queue: "held" });
  await api.overseer.pauseQueue("held");
  await api.overseer.enqueue("ok", {}, { runAt: Date.now() + 3_600_000 });
  const cancelled = await api.overseer.enqueue("ok", {}, { queue: "void" });
  await api.overseer.cancel(cancelled.id);
  const decided = await pendingApproval(api.overseer);
  await pendingApproval(api.overseer);
  await api.overseer.decideApproval(decided.id, { decision: "approve" }, { name: "alice", scope: "operator" });
  await api.overseer.raiseAlert({ summary: "disk full", policy: "page" });
  const worker = api.overseer.worker({ concurrency: 4, queues: ["default", "mail"], pollMs: 20 });
  await worker.start();
  try {
    await waitFor("the broken job to die", async () => (await api.overseer.getJob(broken.id))?.state === "dead");
    expect((await api.overseer.requeueDead({ task: "broken" })).requeued).toBe(1);
    const scrape = async () => (await api.request("GET", "/metrics", { token: api.tokens.metrics })).text;
    return await waitFor(
      "jobs in every state, counted",
      async () => {
        api.server.events.poke();
        await api.server.metrics.settled();
        const text = await scrape();
        const running = (await api.overseer.getJob(slow.id))?.state === "running";
        const counted =
          text.includes('overseer_jobs_finished_total{task="flaky",queue="default",outcome="succeeded"} 1') &&
          text.includes('overseer_alert_notifications_total{channel="ops",status="sent"} 1') &&
          text.includes('overseer_jobs_requeued_total{task="broken",queue="default"} 1');
        return running && counted && text.includes('outcome="dead"') ? text : null;
      },
      { timeoutMs: 15_000 },
    );
  } finally {
    release.resolve();
    await worker.stop();
  }
}

/** The metric names in the first column of the tables under docs/http-api.md's "## Metrics". */
function documentedFamilies(): { name: string; linuxOnly: boolean }[] {
  const text = readFileSync(DOCS, "utf8");
  const section = text.slice(text.indexOf("\n## Metrics\n"));
  const body = section.slice(0, section.indexOf("\n## ", 1));
  return body
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const cells = line.split("|").map((c) => c.trim());
      return { name: cells[1]?.replace(/`/g, "") ?? "", linuxOnly: line.includes("(Linux)") };
    });
}

describe("the exposition checks", () => {
  it("find what promtool would refuse, and nothing in a clean scrape", () => {
    const clean = [
      "# HELP a_total Things.",
      "# TYPE a_total counter",
      'a_total{x="1 } 2"} 3',
      "# HELP b_seconds Time.",
      "# TYPE b_seconds histogram",
      'b_seconds_bucket{le="1"} 1',
      'b_seconds_bucket{le="+Inf"} 2',
      "b_seconds_sum 1.5",
      "b_seconds_count 2",
      "# HELP c Now.",
      "# TYPE c gauge",
      "c NaN",
    ].join("\n");
    expect(expositionProblems(clean)).toEqual([]);
    expect(expositionProblems("# HELP g_total G.\n# TYPE g_total gauge\ng_total 1")).toEqual([
      "g_total: a gauge whose name ends in _total, which is for counters",
    ]);
    expect(expositionProblems("# HELP u_total U.\n# TYPE u_total untyped\nu_total 1")).toHaveLength(1);
    expect(expositionProblems("# HELP c C.\n# TYPE c counter\nc 1")).toEqual([
      "c: a counter whose name does not end in _total",
    ]);
    expect(expositionProblems("# TYPE n gauge\nn 1")).toEqual(["n: no # HELP line"]);
    expect(expositionProblems("# HELP n N.\nn 1")).toEqual(["n: no # TYPE line"]);
    expect(expositionProblems("# HELP n N.\n# TYPE n gauge\nn 1\nstray 2")).toEqual([
      "stray: no # HELP line",
      "stray: no # TYPE line",
    ]);
    expect(expositionProblems("# HELP q_count Q.\n# TYPE q_count gauge\nq_count 1")).toHaveLength(1);
    expect(expositionProblems('# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1')).toEqual([
      'h: a histogram without its le="+Inf" bucket',
    ]);
  });
});

describe("/metrics, scraped from a server with jobs in every state", () => {
  it("is clean by the format's rules and naming conventions, and by promtool check metrics", async () => {
    const text = await scrapeBusyServer();
    expect.soft(expositionProblems(text)).toEqual([]);
    const families = parseFamilies(text);
    // Families of every kind are in it, so the checks above had something to check.
    expect(families.get("overseer_jobs_finished_total")?.type).toBe("counter");
    expect(families.get("overseer_job_run_seconds")?.type).toBe("histogram");
    expect(families.get("overseer_jobs")?.samples.length).toBeGreaterThan(4);
    expect(families.get("nodejs_active_handles")?.type).toBe("gauge");
    for (const name of CONTROL_PLANE_FAMILIES) {
      expect(families.get(name)?.samples.length, `${name} has samples`).toBeGreaterThan(0);
    }
    const promtool = findPromtool();
    if (promtool === null) {
      if (PROMTOOL_REQUIRED) {
        throw new Error(
          "promtool is required here (CI or OVERSEER_REQUIRE_PROMTOOL=1) and was not found: set PROMTOOL or put it on the PATH",
        );
      }
      console.warn("promtool not found (set PROMTOOL or put it on the PATH): /metrics checked in-process only");
      return;
    }
    const check = spawnSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8" });
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({
      status: 0,
      stdout: "",
      stderr: "",
    });
  });

  it("exposes exactly the families docs/http-api.md lists", async () => {
    // Every registered family is in every scrape (with its HELP and TYPE) whatever the jobs.
    const api = await testApi();
    const scrape = await api.request("GET", "/metrics", { token: api.tokens.metrics });
    expect(scrape.status).toBe(200);
    const exposed = [...parseFamilies(scrape.text).keys()].sort();
    const documented = documentedFamilies();
    const names = documented.map((d) => d.name);
    expect(
      names.filter((n, i) => names.indexOf(n) !== i),
      "listed twice",
    ).toEqual([]);
    expect(
      exposed.filter((n) => !names.includes(n)),
      "exposed but not in the docs' tables",
    ).toEqual([]);
    // prom-client reads some process figures from /proc: they are marked (Linux) in the docs.
    const expected = documented.filter((d) => process.platform === "linux" || !d.linuxOnly).map((d) => d.name);
    expect(
      expected.filter((n) => !exposed.includes(n)),
      "in the docs' tables but not exposed",
    ).toEqual([]);
  });
});
