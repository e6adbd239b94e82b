/**
 * `overseer approvals list|show|approve|deny` through the built binary, on the database itself
 * (deciding as `--as NAME`) and through a server (deciding as the token): the same output and
 * exit codes either way; a settled request is exit 1 with `APPROVAL_SETTLED`, a refused decider
 * exit 2 with `APPROVAL_FORBIDDEN`.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { parseConfig } from "../config/config.js";
import { startHttpServer } from "../http/server.js";
import { pendingApproval } from "../test-support/approvals.js";
import { cliSandbox } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";

const cli = cliSandbox("overseer-approvals-cli-");

async function setup() {
  const db = tempDatabase("overseer-approvals-");
  const overseer = await db.open();
  const operator = (await createToken(overseer.store, "cli-operator", "operator")).secret;
  const viewer = (await createToken(overseer.store, "cli-viewer", "viewer")).secret;
  const server = await startHttpServer({ overseer, port: 0 });
  onTestFinished(() => server.close());
  return {
    overseer,
    local: (args: string[]) => cli.run(["--database", db.path, "approvals", ...args]),
    remote: (args: string[], token = operator) =>
      cli.run(["--url", server.url, "--token", token, "approvals", ...args]),
    viewer,
  };
}

describe("overseer approvals", () => {
  for (const mode of ["local", "remote"] as const) {
    it(`lists, shows, approves one and denies another; a late decision exits 1 (${mode})`, async () => {
      const s = await setup();
      const run = s[mode];
      const as = mode === "local" ? ["--as", "alice"] : [];
      const who = mode === "local" ? "alice" : "cli-operator";
      const deploy = await pendingApproval(s.overseer, { title: "Deploy web", details: { command: "kubectl apply" } });
      const drop = await pendingApproval(s.overseer, { title: "Drop the old table", risk: "critical" });

      const list = await run(["list"]);
      expect(list.stderr).toBe("");
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^ID\s+STATE\s+RISK\s+APPROVALS\s+WHEN\s+ASKED BY\s+TITLE\n/);
      expect(list.stdout).toContain(`${deploy.id}  pending`);
      expect(list.stdout).toMatch(/0\/1\s+(9m \d+s|10m 0s) left/);

      const show = await run(["show", deploy.id]);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain(`approval ${deploy.id}: pending (risk high): Deploy web`);
      expect(show.stdout).toContain("approvers  any operator; 0/1 approvals");
      expect(show.stdout).toContain('"command": "kubectl apply"');
      expect(show.stdout).toContain("decisions  none yet");

      const approved = await run(["approve", deploy.id, "--reason", "ship it", ...as]);
      expect(approved.stderr).toBe("");
      expect(approved.stdout).toBe(`approved ${deploy.id} (Deploy web); job ${deploy.jobId} continues\n`);
      expect((await s.overseer.getJob(deploy.jobId as string))?.state).toBe("queued");

      const denied = await run(["deny", drop.id, "--reason", "too risky", "--json", ...as]);
      expect(JSON.parse(denied.stdout)).toMatchObject({
        state: "denied",
        decisions: [{ decision: "deny", by: who, channel: "cli", reason: "too risky" }],
        outcome: { approved: false, decidedBy: who },
      });

      const late = await run(["deny", deploy.id, ...as]);
      expect(late.code).toBe(1);
      expect(late.stderr).toMatch(/^overseer: APPROVAL_SETTLED: the request was already settled: approved/);

      const settled = JSON.parse((await run(["list", "--state", "settled", "--json"])).stdout);
      expect(settled.map((a: { id: string }) => a.id).sort()).toEqual([deploy.id, drop.id].sort());
      expect((await run(["list", "--state", "pending"])).stdout).toBe("no requests match\n");
      const shown = await run(["show", deploy.id]);
      expect(shown.stdout).toMatch(new RegExp(`approve by ${who} via cli: ship it`));
    });
  }

  it("refuses what it must: self-approval, --as with --url, a viewer token, bad input", async () => {
    const s = await setup();
    const own = await pendingApproval(s.overseer, { requestedBy: "alice" });
    const self = await s.local(["approve", own.id, "--as", "alice"]);
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/^overseer: APPROVAL_FORBIDDEN: alice asked for this approval/);
    expect((await s.local(["approve", own.id, "--as", "bob"])).code).toBe(0);

    const other = await pendingApproval(s.overseer);
    const as = await s.remote(["approve", other.id, "--as", "bob"]);
    expect(as.code).toBe(2);
    expect(as.stderr).toMatch(/^overseer: INVALID_ARGUMENT: --as names the local user/);
    const viewer = await s.remote(["approve", other.id], s.viewer);
    expect(viewer.code).toBe(2);
    expect(viewer.stderr).toMatch(/^overseer: FORBIDDEN: /);
    const badState = await s.local(["list", "--state", "waiting"]);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toMatch(/^overseer: INVALID_STATE_FILTER: --state: unknown approval state "waiting"/);
    const missing = await s.remote(["show", "01NOPE"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^overseer: APPROVAL_NOT_FOUND: /);
    expect((await s.overseer.getApproval(other.id))?.state).toBe("pending");
  });
});

describe("overseer approvals, on a run's requests", () => {
  it("says what the run does next: an approved start starts it, a denied one cancels it; answer takes only questions", async () => {
    const db = tempDatabase("overseer-approvals-");
    const { runs } = parseConfig(
      {
        runs: {
          profiles: { gated: { command: "true", approvals: { beforeFirstTurn: true }, completion: { exitCode: 0 } } },
        },
      },
      "test",
    );
    const overseer = await db.open({ runs });
    const local = (args: string[]) => cli.run(["--database", db.path, "approvals", ...args, "--as", "alice"]);
    const requestOf = async (runId: string) => (await overseer.listApprovals({ runId }))[0]?.id ?? "";
    const go = await overseer.startRun({ profile: "gated" });
    const stop = await overseer.startRun({ profile: "gated" });
    const refused = await local(["answer", await requestOf(go.id), "yes"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("is an approval request, not a question: approve or deny it");
    expect((await local(["approve", await requestOf(go.id)])).stdout).toBe(
      `approved ${await requestOf(go.id)} (Start a gated run?); run ${go.id} starts\n`,
    );
    expect((await local(["deny", await requestOf(stop.id)])).stdout).toBe(
      `denied ${await requestOf(stop.id)} (Start a gated run?); run ${stop.id} will not start: it is cancelled\n`,
    );
    expect((await overseer.getRun(go.id))?.state).toBe("queued");
    expect((await overseer.getRun(stop.id))?.state).toBe("cancelled");
    const listed = await cli.run(["--database", db.path, "approvals", "list", "--run", stop.id]);
    expect(listed.stdout).toContain(`run ${stop.id}`);
  });
});
