/**
 * /api/v1/approvals over real HTTP: listing pending first, the detail with its job, deciding as
 * the token (approvers, no self-approval, quorum of distinct people, the first settling decision
 * wins), If-Match, bad input as 400/404, and a second decision at the same moment as 429 BUSY.
 */
import { describe, expect, it } from "vitest";
import { pendingApproval } from "../test-support/approvals.js";
import { testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";

const decide = (id: string) => `/api/v1/approvals/${id}/decision`;

describe("approvals over HTTP", () => {
  it("lists pending first, shows one with its job, and an approval resumes the job; a late deny is 409", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    const older = await pendingApproval(api.overseer, { title: "Restart the database" });
    const newer = await pendingApproval(api.overseer, { title: "Rotate the keys", details: { keys: 3 } });
    await api.request("POST", decide(older.id), { token: operator, body: { decision: "deny", reason: "not now" } });

    const list = await api.request("GET", "/api/v1/approvals", { token: viewer });
    expect(list.status).toBe(200);
    expect(list.body.items.map((a: { id: string; state: string }) => [a.id, a.state])).toEqual([
      [newer.id, "pending"],
      [older.id, "denied"],
    ]);
    const pending = await api.request("GET", "/api/v1/approvals?state=pending", { token: viewer });
    expect(pending.body.items.map((a: { id: string }) => a.id)).toEqual([newer.id]);
    const settled = await api.request("GET", "/api/v1/approvals?state=settled", { token: viewer });
    expect(settled.body.items.map((a: { id: string }) => a.id)).toEqual([older.id]);
    const ofJob = await api.request("GET", `/api/v1/approvals?jobId=${newer.jobId}`, { token: viewer });
    expect(ofJob.body.items.map((a: { id: string }) => a.id)).toEqual([newer.id]);
    const paged = await api.request("GET", "/api/v1/approvals?limit=1", { token: viewer });
    expect(paged.body.items).toHaveLength(1);
    const next = await api.request("GET", `/api/v1/approvals?limit=1&cursor=${paged.body.nextCursor}`, {
      token: viewer,
    });
    expect(next.body.items.map((a: { id: string }) => a.id)).toEqual([older.id]);

    const detail = await api.request("GET", `/api/v1/approvals/${newer.id}`, { token: viewer });
    expect(detail.status).toBe(200);
    expect(detail.headers.get("etag")).toBe(`"${newer.version}"`);
    expect(detail.body.approval).toMatchObject({
      id: newer.id,
      title: "Rotate the keys",
      details: { keys: 3 },
      risk: "high",
      state: "pending",
      decisions: [],
      outcome: null,
    });
    expect(detail.body.job).toMatchObject({ id: newer.jobId, state: "awaiting_approval" });

    const approved = await api.request("POST", decide(newer.id), {
      token: operator,
      body: { decision: "approve", reason: "  looks right ", channel: "cli" },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.settled).toBe(true);
    expect(approved.body.approval).toMatchObject({
      state: "approved",
      decisions: [{ decision: "approve", by: "test-operator", channel: "cli", reason: "looks right" }],
      outcome: { approved: true, decidedBy: "test-operator", channel: "cli", reason: "looks right", timedOut: false },
    });
    expect((await api.overseer.getJob(newer.jobId as string))?.state).toBe("queued");

    const late = await api.request("POST", decide(newer.id), { token: api.tokens.admin, body: { decision: "deny" } });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: "APPROVAL_SETTLED", details: { state: "approved" } });
  });

  it("a job enqueued through the API asks in its token's name: that token may not approve, another may", async () => {
    const api = await testApi();
    const o = api.overseer;
    o.defineTask(
      "deploy",
      async (_payload, ctx) => (await ctx.requestApproval({ title: "Deploy web", timeout: "10m" })).approved,
    );
    const posted = await api.request("POST", "/api/v1/jobs", { token: api.tokens.operator, body: { task: "deploy" } });
    expect(posted.body.enqueuedBy).toBe("test-operator");
    // The caller cannot name someone else: the field is the server's to fill.
    const spoofed = await api.request("POST", "/api/v1/jobs", {
      token: api.tokens.operator,
      body: { task: "deploy", options: { enqueuedBy: "someone-else" } },
    });
    expect(spoofed.status).toBe(400);
    const worker = o.worker({ concurrency: 1, pollMs: 20 });
    await worker.start();
    try {
      const [asked] = await waitFor("the request", async () => {
        const items = (
          await api.request("GET", `/api/v1/approvals?jobId=${posted.body.id}`, { token: api.tokens.viewer })
        ).body.items;
        return items.length === 1 ? items : null;
      });
      expect(asked.requestedBy).toBe("test-operator");
      const own = await api.request("POST", decide(asked.id), {
        token: api.tokens.operator,
        body: { decision: "approve" },
      });
      expect(own.status).toBe(403);
      expect(own.body.error.message).toContain("asked for this approval");
      const other = await api.request("POST", decide(asked.id), {
        token: api.tokens.admin,
        body: { decision: "approve" },
      });
      expect(other.status).toBe(200);
      const done = await waitFor("the job to finish", async () => {
        const job = await o.getJob(posted.body.id);
        return job?.state === "succeeded" ? job : null;
      });
      expect(done.result).toBe(true);
    } finally {
      await worker.stop();
    }
  });

  it("only the listed approvers decide, never the requester; quorum 2 needs two different people", async () => {
    const api = await testApi();
    const { operator, admin } = api.tokens;
    const adminOnly = await pendingApproval(api.overseer, { approvers: ["test-admin"] });
    const refused = await api.request("POST", decide(adminOnly.id), { token: operator, body: { decision: "approve" } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("APPROVAL_FORBIDDEN");
    expect(refused.body.error.message).toContain("not among the approvers");

    const own = await pendingApproval(api.overseer, { requestedBy: "test-operator" });
    const self = await api.request("POST", decide(own.id), { token: operator, body: { decision: "approve" } });
    expect(self.status).toBe(403);
    expect(self.body.error.message).toContain("asked for this approval");

    const two = await pendingApproval(api.overseer, { approvers: ["test-operator", "test-admin"], quorum: 2 });
    const one = await api.request("POST", decide(two.id), { token: operator, body: { decision: "approve" } });
    expect(one.body).toMatchObject({ settled: false, approval: { state: "pending" } });
    const again = await api.request("POST", decide(two.id), { token: operator, body: { decision: "approve" } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("APPROVAL_ALREADY_DECIDED");
    const second = await api.request("POST", decide(two.id), { token: admin, body: { decision: "approve" } });
    expect(second.body).toMatchObject({ settled: true, approval: { state: "approved" } });
    expect(second.body.approval.outcome.decidedBy).toBe("test-operator, test-admin");
  });

  it("a stale If-Match is 409 VERSION_CONFLICT; bad input is 400 naming the field; an unknown id is 404", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    const a = await pendingApproval(api.overseer, { approvers: ["test-operator", "test-admin"], quorum: 2 });
    await api.request("POST", decide(a.id), { token: operator, body: { decision: "approve" } });
    const stale = await api.request("POST", decide(a.id), {
      token: api.tokens.admin,
      headers: { "if-match": `"${a.version}"` },
      body: { decision: "approve" },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("VERSION_CONFLICT");
    expect((await api.overseer.getApproval(a.id))?.state).toBe("pending");

    const cases: Array<[string, string, unknown, number, string]> = [
      ["POST", decide(a.id), { decision: "maybe" }, 400, "body.decision"],
      ["POST", decide(a.id), { decision: "deny", channel: "telegram" }, 400, "body.channel"],
      ["POST", decide(a.id), { decision: "deny", extra: 1 }, 400, "body.extra"],
      ["GET", "/api/v1/approvals?state=waiting", undefined, 400, "state"],
      ["GET", "/api/v1/approvals?cursor=nope", undefined, 400, "cursor"],
    ];
    for (const [method, path, body, status, field] of cases) {
      const res = await api.request(method, path, { token: operator, body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.body.error.details.field).toBe(field);
    }
    const missing = await api.request("GET", "/api/v1/approvals/01NOPE", { token: viewer });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("APPROVAL_NOT_FOUND");
    const decideMissing = await api.request("POST", decide("01NOPE"), { token: operator, body: { decision: "deny" } });
    expect(decideMissing.status).toBe(404);
  });

  it("two decisions at the same moment: the first applies, the second is 429 BUSY with Retry-After", async () => {
    const api = await testApi();
    const a = await pendingApproval(api.overseer);
    const store = api.overseer.store;
    const original = store.decideApproval.bind(store);
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    store.decideApproval = async (...args) => {
      entered();
      await released;
      return original(...args);
    };
    const first = api.request("POST", decide(a.id), {
      token: api.tokens.operator,
      body: { decision: "approve", reason: "first" },
    });
    await inside;
    const second = await api.request("POST", decide(a.id), {
      token: api.tokens.admin,
      body: { decision: "deny", reason: "second" },
    });
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(second.body.error).toMatchObject({ code: "BUSY", details: { approval: a.id, retryAfter: 1 } });
    // Its job is held too: cancelling it waits for the decision.
    const cancel = await api.request("POST", `/api/v1/jobs/${a.jobId}/cancel`, { token: api.tokens.operator });
    expect(cancel.status).toBe(429);
    release();
    expect((await first).body.approval.state).toBe("approved");
    const retried = await api.request("POST", decide(a.id), { token: api.tokens.admin, body: { decision: "deny" } });
    expect(retried.status).toBe(409);
    expect(retried.body.error.details.state).toBe("approved");
  });
});
