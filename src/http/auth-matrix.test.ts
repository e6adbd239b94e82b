/**
 * Every route × every kind of caller gets exactly the status its scope says: 401 without a
 * valid token, 403 with a token whose scope does not reach, 2xx otherwise. The route list comes
 * from the server itself, so a route added without a row here fails this test.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createToken } from "../auth/tokens.js";
import { type AlertsConfig, EMPTY_ALERTS } from "../config/alerts.js";
import { parseConfig } from "../config/config.js";
import { TOKEN_SCOPES, type TokenScope } from "../core/types.js";
import type { Overseer } from "../sdk/overseer.js";
import { pendingApproval } from "../test-support/approvals.js";
import { testApi } from "../test-support/http.js";
import type { RouteScope } from "./auth.js";

interface Call {
  path: string;
  body?: unknown;
  /** A WebSocket upgrade rather than a plain request. */
  websocket?: boolean;
  headers?: Record<string, string>;
}

/** An MCP client's first message, as the streamable HTTP transport sends it. */
const MCP_INITIALIZE: Call = {
  path: "/api/v1/mcp",
  body: {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "matrix", version: "1" } },
  },
  headers: { accept: "application/json, text/event-stream" },
};

/** A worker row of its own (no process behind it: the command is only recorded); its id. */
async function registeredWorker(o: Overseer): Promise<string> {
  const id = `w-${randomBytes(6).toString("hex")}`;
  await o.store.registerWorker({ id, name: id, host: "h", pid: 1, queues: null, tasks: ["t"], concurrency: 2 });
  return id;
}

/**
 * Per route: who may call it, and how to make a request that succeeds (fresh fixtures each
 * time); `allowed` for a route whose answer to those it lets in is not a 2xx.
 */
const MATRIX: Record<string, { scope: RouteScope; call: (o: Overseer) => Promise<Call>; allowed?: number }> = {
  "GET /healthz": { scope: "public", call: async () => ({ path: "/healthz" }) },
  "GET /readyz": { scope: "public", call: async () => ({ path: "/readyz" }) },
  "GET /api/v1/openapi.json": { scope: "viewer", call: async () => ({ path: "/api/v1/openapi.json" }) },
  "POST /api/v1/jobs": { scope: "operator", call: async () => ({ path: "/api/v1/jobs", body: { task: "t" } }) },
  "GET /api/v1/jobs": { scope: "viewer", call: async () => ({ path: "/api/v1/jobs?state=queued&limit=5" }) },
  "GET /api/v1/jobs/count": { scope: "viewer", call: async () => ({ path: "/api/v1/jobs/count?state=queued" }) },
  "GET /api/v1/tasks": { scope: "viewer", call: async () => ({ path: "/api/v1/tasks" }) },
  "GET /api/v1/jobs/:id": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/jobs/${(await o.enqueue("t")).id}` }),
  },
  "GET /api/v1/jobs/:id/retry-preview": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/jobs/${(await o.enqueue("t")).id}/retry-preview` }),
  },
  "GET /api/v1/jobs/:id/steps": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/jobs/${(await o.enqueue("t")).id}/steps` }),
  },
  "GET /api/v1/jobs/:id/steps/:name": {
    scope: "viewer",
    call: async (o) => {
      await o.enqueue("stepped");
      const claim = { workerId: "w", limit: 1, tasks: ["stepped"], queues: null, leaseMs: 60_000 };
      const [claimed] = await o.store.claim(claim);
      if (!claimed) throw new Error("the job was not claimed");
      await o.store.recordStep(claimed.lease, { name: "s", kind: "step", resultJson: "1" });
      return { path: `/api/v1/jobs/${claimed.job.id}/steps/s` };
    },
  },
  "POST /api/v1/jobs/:id/retry": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/jobs/${(await cancelled(o)).id}/retry` }),
  },
  "POST /api/v1/jobs/:id/cancel": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/jobs/${(await o.enqueue("t")).id}/cancel` }),
  },
  "POST /api/v1/jobs/:id/discard": {
    scope: "admin",
    call: async (o) => ({ path: `/api/v1/jobs/${(await cancelled(o)).id}/discard` }),
  },
  "POST /api/v1/jobs/requeue-dead": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/jobs/requeue-dead", body: { dryRun: true } }),
  },
  "POST /api/v1/jobs/retry": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/jobs/retry", body: { limit: 1 } }),
  },
  "POST /api/v1/jobs/cancel": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/jobs/cancel", body: { queue: "none", limit: 1 } }),
  },
  "POST /api/v1/jobs/discard": {
    scope: "admin",
    call: async () => ({ path: "/api/v1/jobs/discard", body: { queue: "none", limit: 1 } }),
  },
  "GET /api/v1/queues": { scope: "viewer", call: async () => ({ path: "/api/v1/queues" }) },
  "POST /api/v1/queues/:name/pause": { scope: "operator", call: async () => ({ path: "/api/v1/queues/mail/pause" }) },
  "POST /api/v1/queues/:name/resume": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/queues/mail/resume" }),
  },
  "POST /api/v1/queues/:name/breaker/reset": {
    scope: "operator",
    call: async (o) => {
      await o.store.tripBreaker("calls", { attempts: 10, failures: 10, windowMs: 60_000, divertTo: null }, 60_000);
      return { path: "/api/v1/queues/calls/breaker/reset" };
    },
  },
  "GET /api/v1/schedules": { scope: "viewer", call: async () => ({ path: "/api/v1/schedules" }) },
  "POST /api/v1/schedules/:name/enable": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/schedules/${await schedule(o)}/enable` }),
  },
  "POST /api/v1/schedules/:name/disable": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/schedules/${await schedule(o)}/disable` }),
  },
  "POST /api/v1/schedules/:name/run": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/schedules/${await schedule(o)}/run` }),
  },
  "GET /api/v1/workers": { scope: "viewer", call: async () => ({ path: "/api/v1/workers" }) },
  "GET /api/v1/workers/:id": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/workers/${await registeredWorker(o)}` }),
  },
  "POST /api/v1/workers/:id/quiet": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/workers/${await registeredWorker(o)}/quiet` }),
  },
  "POST /api/v1/workers/:id/stop": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/workers/${await registeredWorker(o)}/stop` }),
  },
  "POST /api/v1/workers/:id/resume": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/workers/${await registeredWorker(o)}/resume` }),
  },
  "GET /api/v1/concurrency": {
    scope: "viewer",
    call: async (o) => {
      await o.enqueue("t", {}, { concurrency: { key: "business-1", limit: 2 } });
      return { path: "/api/v1/concurrency?limit=5" };
    },
  },
  "GET /api/v1/stats": { scope: "viewer", call: async () => ({ path: "/api/v1/stats" }) },
  "GET /api/v1/stats/series": { scope: "viewer", call: async () => ({ path: "/api/v1/stats/series?range=6h" }) },
  "GET /metrics": { scope: "metrics", call: async () => ({ path: "/metrics" }) },
  // Live streams: the status and headers are the answer (the test client stops reading there).
  "GET /api/v1/events": { scope: "viewer", call: async () => ({ path: "/api/v1/events" }) },
  "GET /api/v1/jobs/:id/events": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/jobs/${(await o.enqueue("t")).id}/events` }),
  },
  "POST /api/v1/stream-tokens": { scope: "viewer", call: async () => ({ path: "/api/v1/stream-tokens" }) },
  "GET /api/v1/ws": { scope: "viewer", call: async () => ({ path: "/api/v1/ws", websocket: true }) },
  "GET /api/v1/whoami": { scope: "viewer", call: async () => ({ path: "/api/v1/whoami" }) },
  "GET /api/v1/execution": { scope: "viewer", call: async () => ({ path: "/api/v1/execution" }) },
  // Turning it off needs an operator; turning it on, an admin (execution.test.ts).
  "PUT /api/v1/execution": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/execution", body: { mode: "dry-run" } }),
  },
  "GET /api/v1/oncall": { scope: "viewer", call: async () => ({ path: "/api/v1/oncall" }) },
  "GET /api/v1/oncall/overrides": { scope: "viewer", call: async () => ({ path: "/api/v1/oncall/overrides" }) },
  "POST /api/v1/oncall/overrides": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/oncall/overrides", body: { rotation: "primary", person: "bo", for: "1h" } }),
  },
  "POST /api/v1/oncall/overrides/:id/cancel": {
    scope: "operator",
    call: async (o) => {
      const { id } = await o.overrideOncall({ rotation: "primary", person: "bo", for: "1h", by: "matrix" });
      return { path: `/api/v1/oncall/overrides/${id}/cancel` };
    },
  },
  "POST /api/v1/signals": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/signals", body: { name: "payment.settled", payload: { orderId: "o-1" } } }),
  },
  "GET /api/v1/runs/profiles": { scope: "viewer", call: async () => ({ path: "/api/v1/runs/profiles" }) },
  "POST /api/v1/runs": { scope: "admin", call: async () => ({ path: "/api/v1/runs", body: { profile: "echo" } }) },
  "GET /api/v1/runs": { scope: "viewer", call: async () => ({ path: "/api/v1/runs?state=queued" }) },
  "GET /api/v1/runs/count": { scope: "viewer", call: async () => ({ path: "/api/v1/runs/count?state=queued" }) },
  "GET /api/v1/runs/:id": { scope: "viewer", call: async (o) => ({ path: `/api/v1/runs/${await queuedRun(o)}` }) },
  "GET /api/v1/runs/:id/status": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/runs/${await queuedRun(o)}/status` }),
  },
  "POST /api/v1/runs/:id/control": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/runs/${await queuedRun(o)}/control`, body: { action: "cancel" } }),
  },
  "POST /api/v1/runs/:id/rerun": {
    scope: "admin",
    call: async (o) => {
      const id = await queuedRun(o);
      await o.controlRun(id, "cancel");
      return { path: `/api/v1/runs/${id}/rerun`, body: {} };
    },
  },
  "POST /api/v1/runs/:id/messages": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/runs/${await queuedRun(o)}/messages`, body: { body: "hello" } }),
  },
  "GET /api/v1/runs/:id/messages": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/runs/${await queuedRun(o)}/messages` }),
  },
  "GET /api/v1/runs/:id/output": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/runs/${await runWithOutput(o)}/output?turn=1` }),
  },
  "GET /api/v1/runs/:id/events": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/runs/${await queuedRun(o)}/events` }),
  },
  "POST /api/v1/claims/:key": {
    scope: "operator",
    call: async () => ({ path: `/api/v1/claims/${freshKey()}`, body: { owner: "matrix", ttl: "30s" } }),
  },
  "POST /api/v1/claims/:key/refresh": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/claims/${await heldClaim(o)}/refresh`, body: { owner: "matrix", ttl: "1m" } }),
  },
  "POST /api/v1/claims/:key/release": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/claims/${await heldClaim(o)}/release`, body: { owner: "matrix" } }),
  },
  "GET /api/v1/claims": { scope: "viewer", call: async () => ({ path: "/api/v1/claims" }) },
  "GET /api/v1/claim-history": { scope: "viewer", call: async () => ({ path: "/api/v1/claim-history" }) },
  "GET /api/v1/claims/:key": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/claims/${await heldClaim(o)}` }),
  },
  "POST /api/v1/lessons": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/lessons", body: { title: "disk full", outcome: "resolved" } }),
  },
  "GET /api/v1/lessons": { scope: "viewer", call: async () => ({ path: "/api/v1/lessons" }) },
  "GET /api/v1/lessons/similar": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/lessons/similar?text=${(await aLesson(o)).title}` }),
  },
  "POST /api/v1/lessons/similar": {
    scope: "viewer",
    call: async (o) => ({ path: "/api/v1/lessons/similar", body: { text: (await aLesson(o)).title } }),
  },
  "GET /api/v1/lessons/:id": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/lessons/${(await aLesson(o)).id}` }),
  },
  "POST /api/v1/lessons/:id/delete": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/lessons/${(await aLesson(o)).id}/delete` }),
  },
  "POST /api/v1/mcp": { scope: "viewer", call: async () => MCP_INITIALIZE },
  // Stateless: no server-initiated stream, which the protocol answers with 405.
  "GET /api/v1/mcp": { scope: "viewer", call: async () => ({ path: "/api/v1/mcp" }), allowed: 405 },
  "GET /api/v1/approvals": { scope: "viewer", call: async () => ({ path: "/api/v1/approvals?state=pending" }) },
  "GET /api/v1/approvals/:id": {
    scope: "viewer",
    call: async (o) => ({ path: `/api/v1/approvals/${(await pendingApproval(o)).id}` }),
  },
  "POST /api/v1/approvals/:id/decision": {
    scope: "operator",
    call: async (o) => ({
      path: `/api/v1/approvals/${(await pendingApproval(o)).id}/decision`,
      body: { decision: "deny", reason: "auth matrix" },
    }),
  },
  "POST /api/v1/approvals/decide": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/approvals/decide", body: { decision: "deny", limit: 1 } }),
  },
  "GET /api/v1/attention": { scope: "viewer", call: async () => ({ path: "/api/v1/attention" }) },
  "GET /api/v1/alerts": { scope: "viewer", call: async () => ({ path: "/api/v1/alerts?status=open" }) },
  "POST /api/v1/alerts/acknowledge": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/alerts/acknowledge", body: { note: "auth matrix", limit: 1 } }),
  },
  "POST /api/v1/alerts/close": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/alerts/close", body: { limit: 1 } }),
  },
  "POST /api/v1/alerts": {
    scope: "operator",
    call: async () => ({ path: "/api/v1/alerts", body: { summary: "auth matrix" } }),
  },
  "GET /api/v1/alerts/policies": { scope: "viewer", call: async () => ({ path: "/api/v1/alerts/policies" }) },
  "GET /api/v1/alerts/:id": { scope: "viewer", call: async (o) => ({ path: `/api/v1/alerts/${await openAlert(o)}` }) },
  "POST /api/v1/alerts/:id/ack": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/alerts/${await openAlert(o)}/ack` }),
  },
  "POST /api/v1/alerts/:id/escalate": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/alerts/${await openAlert(o)}/escalate` }),
  },
  "POST /api/v1/alerts/:id/close": {
    scope: "operator",
    call: async (o) => ({ path: `/api/v1/alerts/${await openAlert(o)}/close`, body: { reason: "auth matrix" } }),
  },
  "GET /api/v1/heartbeats": { scope: "viewer", call: async () => ({ path: "/api/v1/heartbeats" }) },
  "POST /api/v1/heartbeats/:name": {
    scope: "operator",
    call: async (o) => {
      await o.syncHeartbeats([{ name: "matrix", intervalMs: 3_600_000, policy: null }]);
      return { path: "/api/v1/heartbeats/matrix" };
    },
  },
  // The dashboard's files and client routes: public, as the app holds no data without a token.
  "GET /*": { scope: "public", call: async () => ({ path: "/jobs?state=dead" }) },
};

/** Opens a WebSocket and reports the handshake's status as a response: 101 counts as 2xx. */
async function upgrade(url: string, headers: Record<string, string>) {
  const { WebSocket } = await import("ws");
  return new Promise<{ status: number; body: any; headers: Headers }>((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, "ws"), { headers });
    ws.on("open", () => {
      ws.close();
      resolve({ status: 200, body: null, headers: new Headers() });
    });
    ws.on("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString();
      });
      res.on("end", () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: h });
      });
    });
    ws.on("error", reject);
  });
}

async function schedule(o: Overseer) {
  await o.syncSchedules({ nightly: { cron: "0 2 * * *", task: "t" } });
  return "nightly";
}

async function queuedRun(o: Overseer): Promise<string> {
  return (await o.startRun({ profile: "echo" })).id;
}

/** A run whose first turn stored some output, written through the store as a supervisor would. */
async function runWithOutput(o: Overseer): Promise<string> {
  const id = await queuedRun(o);
  // Oldest first: runs other rows started may come before it.
  let claimed = await o.store.claimRun("matrix", 60_000);
  while (claimed !== null && claimed.run.id !== id) claimed = await o.store.claimRun("matrix", 60_000);
  if (claimed === null) throw new Error("expected to claim the run just started");
  await o.store.updateRun(claimed.lease, {
    currentTurn: 1,
    turnStarted: { turn: 1, pid: null, host: "test" },
    output: { turn: 1, offset: 0, data: Buffer.from("hello\n") },
  });
  return id;
}

let claimKeys = 0;
function freshKey(): string {
  claimKeys++;
  return `matrix-${claimKeys}`;
}

/** A key freshly taken by owner "matrix". */
async function heldClaim(o: Overseer): Promise<string> {
  const key = freshKey();
  await o.takeClaim(key, "matrix", "30s");
  return key;
}

/** A fresh lesson, for the reads, the search and the delete. */
async function aLesson(o: Overseer): Promise<{ id: string; title: string }> {
  return (await o.lessons.record({ title: "disk full on the primary", outcome: "resolved", tags: ["disk"] })).lesson;
}

/** A fresh triggered manual alert's id. */
async function openAlert(o: Overseer): Promise<string> {
  return (await o.raiseAlert({ summary: "auth matrix" })).alert.id;
}

async function cancelled(o: Overseer) {
  const job = await o.enqueue("t");
  await o.cancel(job.id);
  return job;
}

/** One run profile, for the runs routes; no supervisor runs here, so runs stay queued. */
const ECHO_PROFILE = parseConfig(
  {
    runs: {
      profiles: {
        echo: { command: "node", args: ["-e", "1"], input: { template: "{{messages}}" }, completion: { exitCode: 0 } },
      },
    },
  },
  "auth matrix",
).runs;

/** A rotation to override: people and rotations need no channel until someone is paged. */
const ONCALL: AlertsConfig = {
  ...EMPTY_ALERTS,
  people: { ana: { telegram: 1 }, bo: { telegram: 2 } },
  rotations: {
    primary: {
      name: "primary",
      people: ["ana", "bo"],
      timezone: "UTC",
      start: "2026-01-05T09:00",
      shiftMs: 604_800_000,
    },
  },
};

type Caller = "no token" | "malformed token" | "unknown token" | "revoked token" | TokenScope;
const CALLERS: Caller[] = ["no token", "malformed token", "unknown token", "revoked token", ...TOKEN_SCOPES];

function expected(scope: RouteScope, caller: Caller, answer: "2xx" | number = "2xx"): "2xx" | number {
  if (scope === "public") return answer;
  if (!(TOKEN_SCOPES as readonly string[]).includes(caller)) return 401;
  const held = caller as TokenScope;
  const allowed = held === "admin" || held === scope || (held === "operator" && scope === "viewer");
  return allowed ? answer : 403;
}

describe("the auth matrix", () => {
  it("covers every route the server has, and only those", async () => {
    const api = await testApi();
    const routes = api.server.routes.map((r) => `${r.method} ${r.url}`).sort();
    expect(routes).toEqual(Object.keys(MATRIX).sort());
    for (const r of api.server.routes)
      expect(r.scope, `${r.method} ${r.url} declares its scope`).toBe(MATRIX[`${r.method} ${r.url}`]?.scope);
  });

  it("every route × every caller gets exactly the expected status", async () => {
    const api = await testApi({ runs: ECHO_PROFILE, alerts: ONCALL });
    const revoked = (await createToken(api.overseer.store, "gone", "admin")).secret;
    await api.overseer.store.revokeToken("gone");
    const secretOf: Record<Caller, string | undefined> = {
      "no token": undefined,
      "malformed token": "not a token",
      "unknown token": `ovs_${randomBytes(32).toString("base64url")}`,
      "revoked token": revoked,
      ...api.tokens,
    };
    const results: string[] = [];
    const wanted: string[] = [];
    for (const route of api.server.routes) {
      const key = `${route.method} ${route.url}`;
      const entry = MATRIX[key];
      if (!entry) throw new Error(`no matrix entry for ${key}`);
      for (const caller of CALLERS) {
        const call = await entry.call(api.overseer);
        const headers: Record<string, string> = { ...call.headers };
        const secret = secretOf[caller];
        if (secret !== undefined) headers.authorization = `Bearer ${secret}`;
        const res = call.websocket
          ? await upgrade(api.url + call.path, headers)
          : await api.request(route.method, call.path, { headers, body: call.body });
        const got = res.status >= 200 && res.status < 300 ? "2xx" : res.status;
        results.push(`${key} as ${caller}: ${got}`);
        wanted.push(`${key} as ${caller}: ${expected(entry.scope, caller, entry.allowed)}`);
        if (got === 401) {
          expect(res.body.error.code).toBe("UNAUTHENTICATED");
          expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        }
        if (got === 403) expect(res.body.error.code).toBe("FORBIDDEN");
      }
    }
    expect(results).toEqual(wanted);
  });
});
