/**
 * /metrics as Prometheus and its tools read it: every family well-formed and named by the
 * conventions (`promtool check metrics` finds nothing), and every family documented in the
 * metrics tables of docs/http-api.md, which list no family the server does not expose.
 *
 * promtool is used when there is one: the PROMTOOL environment variable, or `promtool` on the
 * PATH (.ci/run fetches it and sets PROMTOOL, so CI always checks with it). The same rules are
 * also checked in-process (test-support/prometheus-text.ts), so a machine without promtool
 * still checks the scrape rather than passing without looking.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { PermanentError } from "../core/errors.js";
import { testApi } from "../test-support/http.js";
import { expositionProblems, parseFamilies } from "../test-support/prometheus-text.js";
import { deferred, waitFor } from "../test-support/wait.js";

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

/** A scrape of a real server holding jobs queued, scheduled, running, retried, succeeded, dead and cancelled. */
async function scrapeBusyServer(): Promise<string> {
  const api = await testApi();
  const release = deferred();
  api.overseer.defineTask("ok", async () => "fine");
  api.overseer.defineTask("bad", async () => {
    throw new PermanentError("no");
  });
  api.overseer.defineTask("flaky", async (_p, ctx) => {
    if (ctx.attempt === 1) throw new Error("once");
  });
  api.overseer.defineTask("slow", async () => release.promise);
  await api.overseer.enqueue("ok", {}, { queue: "mail" });
  await api.overseer.enqueue("bad");
  await api.overseer.enqueue("flaky", {}, { backoff: { type: "fixed", delay: 1 } });
  const slow = await api.overseer.enqueue("slow");
  await api.overseer.enqueue("later", {}, { queue: "held" });
  await api.overseer.pauseQueue("held");
  await api.overseer.enqueue("ok", {}, { runAt: Date.now() + 3_600_000 });
  const cancelled = await api.overseer.enqueue("ok", {}, { queue: "void" });
  await api.overseer.cancel(cancelled.id);
  const worker = api.overseer.worker({ concurrency: 4, queues: ["default", "mail"] });
  await worker.start();
  try {
    const scrape = async () => (await api.request("GET", "/metrics", { token: api.tokens.metrics })).text;
    return await waitFor(
      "jobs in every state, counted",
      async () => {
        api.server.events.poke();
        await api.server.metrics.settled();
        const text = await scrape();
        const running = (await api.overseer.getJob(slow.id))?.state === "running";
        const counted = text.includes(
          'overseer_jobs_finished_total{task="flaky",queue="default",outcome="succeeded"} 1',
        );
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
    const promtool = findPromtool();
    if (promtool === null) {
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
