/**
 * Traces across the queue, with the OpenTelemetry SDK's in-memory exporter: one enqueue over
 * real HTTP on loopback is one trace through the route, each attempt (a retry included) and
 * the jobs its handler enqueues; a caller's `traceparent` is continued; and with no SDK
 * installed, no job carries a trace context. Each test registers its own provider (or none);
 * the globals are reset after each, so no other test sees them.
 */
import { context, propagation, type SpanContext, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import type { Job } from "../core/types.js";
import type { Overseer } from "../sdk/overseer.js";
import { type TestApi, testApi } from "../test-support/http.js";
import { testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";
import { tracer } from "./tracing.js";

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

/** Registers an SDK (AsyncLocalStorage context, W3C propagator) that keeps every ended span. */
function installSdk(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  onTestFinished(() => provider.shutdown());
  return exporter;
}

/**
 * `charge` fails its first attempt and, on its second, enqueues a `receipt` through the SDK,
 * then succeeds, which enqueues its `onSuccess` follow-up, `audit`.
 */
function defineTasks(overseer: Overseer): void {
  overseer.defineTask(
    "charge",
    async (_payload, ctx) => {
      if (ctx.attempt === 1) throw new Error("card network down");
      await overseer.enqueue("receipt", { for: ctx.job.id });
      return { charged: true };
    },
    { maxAttempts: 3, backoff: { type: "fixed", delay: 1 }, onSuccess: "audit" },
  );
  overseer.defineTask("receipt", async () => "sent");
  overseer.defineTask("audit", async () => "logged");
}

/** Runs a worker until `charge`'s receipt and audit have succeeded; returns the three jobs. */
async function runAll(api: TestApi, chargeId: string): Promise<{ charge: Job; receipt: Job; audit: Job }> {
  const worker = api.overseer.worker({ concurrency: 4, pollMs: 20 });
  await worker.start();
  onTestFinished(() => worker.stop());
  const done = async (task: string) => {
    const [job] = await api.overseer.listJobs({ task, states: ["succeeded"] });
    return job;
  };
  const receipt = await waitFor("the receipt to succeed", () => done("receipt"), { timeoutMs: 20_000 });
  const audit = await waitFor("the audit to succeed", () => done("audit"), { timeoutMs: 20_000 });
  const charge = (await api.overseer.getJob(chargeId)) as Job;
  return { charge, receipt, audit };
}

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
const traceparentOf = (c: SpanContext): string => `00-${c.traceId}-${c.spanId}-01`;

describe("tracing with an OpenTelemetry SDK", () => {
  it("one enqueue over HTTP is one trace: the route, each attempt, and the jobs the handler enqueues", async () => {
    const exporter = installSdk();
    const api = await testApi();
    defineTasks(api.overseer);

    const res = await api.request("POST", "/api/v1/jobs", {
      token: api.tokens.operator,
      body: { task: "charge", payload: { amount: 42 } },
    });
    expect(res.status).toBe(201);
    const { charge, receipt, audit } = await runAll(api, res.body.id);
    expect(charge).toMatchObject({ state: "succeeded", attempts: 2 });
    // Every span has ended once the route and all three jobs' attempts have: 1 + 1 + 2 + 1 + 1 + 1.
    const spans = await waitFor("seven spans", () => {
      const ended = exporter.getFinishedSpans();
      return ended.length >= 7 ? ended : null;
    });
    expect(spans).toHaveLength(7);

    const route = spans.find((s) => s.kind === SpanKind.SERVER) as ReadableSpan;
    const sends = spans.filter((s) => s.kind === SpanKind.PRODUCER);
    const processes = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    const processOf = (job: Job) => processes.filter((s) => s.attributes["messaging.message.id"] === job.id);
    const sendOf = (job: Job) => sends.find((s) => s.attributes["messaging.message.id"] === job.id) as ReadableSpan;

    // One trace, started at the route: no parent, the caller having sent no traceparent.
    const traceId = route.spanContext().traceId;
    expect(spans.every((s) => s.spanContext().traceId === traceId)).toBe(true);
    expect(route.parentSpanContext).toBeUndefined();
    expect(route.name).toBe("POST /api/v1/jobs");
    expect(route.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/api/v1/jobs",
      "url.path": "/api/v1/jobs",
      "http.response.status_code": 201,
    });

    // The route's enqueue, a child of the route; the job carries its context.
    const chargeSend = sendOf(charge);
    expect(parentOf(chargeSend)).toBe(idOf(route));
    expect(chargeSend.name).toBe("send default");
    expect(chargeSend.attributes).toMatchObject({
      "messaging.system": "overseer",
      "messaging.operation.type": "send",
      "messaging.destination.name": "default",
      "messaging.message.id": charge.id,
      "overseer.job.task": "charge",
    });
    expect(charge.traceContext).toEqual({ traceparent: traceparentOf(chargeSend.spanContext()), tracestate: null });
    // The job record over HTTP says the same.
    const detail = await api.request("GET", `/api/v1/jobs/${charge.id}`, { token: api.tokens.viewer });
    expect(detail.body.job.traceContext).toEqual(charge.traceContext);

    // Each attempt is its own span, both children of the enqueue: the first failed, the second did not.
    const [first, second] = processOf(charge).sort(
      (a, b) => Number(a.attributes["overseer.job.attempt"]) - Number(b.attributes["overseer.job.attempt"]),
    );
    if (!first || !second) throw new Error("expected two attempts' spans");
    for (const [span, attempt] of [
      [first, 1],
      [second, 2],
    ] as const) {
      expect(parentOf(span)).toBe(idOf(chargeSend));
      expect(span.name).toBe("process default");
      expect(span.attributes).toMatchObject({
        "messaging.system": "overseer",
        "messaging.operation.type": "process",
        "messaging.destination.name": "default",
        "messaging.message.id": charge.id,
        "overseer.job.task": "charge",
        "overseer.job.attempt": attempt,
      });
      // The claim that took it, as an event at the claim's time.
      expect(span.events.map((e) => e.name)).toContain("claimed");
    }
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(first.attributes).toMatchObject({ "overseer.attempt.outcome": "retry", "error.type": "Error" });
    const exception = first.events.find((e) => e.name === "exception");
    expect(exception?.attributes?.["exception.message"]).toBe("card network down");
    expect(second.status.code).toBe(SpanStatusCode.OK);
    expect(second.attributes["overseer.attempt.outcome"]).toBe("succeeded");

    // What the second attempt enqueued: through the SDK, under an enqueue span of its own ...
    const receiptSend = sendOf(receipt);
    expect(parentOf(receiptSend)).toBe(idOf(second));
    expect(receipt.traceContext?.traceparent).toBe(traceparentOf(receiptSend.spanContext()));
    const [receiptProcess] = processOf(receipt);
    expect(receiptProcess && parentOf(receiptProcess)).toBe(idOf(receiptSend));
    // ... and its onSuccess follow-up, inserted with its success: a child of that attempt itself.
    expect(audit.traceContext?.traceparent).toBe(traceparentOf(second.spanContext()));
    const [auditProcess] = processOf(audit);
    expect(auditProcess && parentOf(auditProcess)).toBe(idOf(second));
    expect(auditProcess?.status.code).toBe(SpanStatusCode.OK);
  });

  it("an incoming traceparent is continued, with its tracestate, through the job to its attempt", async () => {
    const exporter = installSdk();
    const api = await testApi();
    api.overseer.defineTask("receipt", async () => "sent");
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";

    const res = await api.request("POST", "/api/v1/jobs", {
      token: api.tokens.operator,
      body: [{ task: "receipt" }, { task: "receipt", options: { queue: "mail" } }],
      headers: { traceparent: `00-${callerTrace}-${callerSpan}-01`, tracestate: "vendor=abc" },
    });
    expect(res.status).toBe(201);
    const worker = api.overseer.worker({ concurrency: 2, pollMs: 20 });
    await worker.start();
    onTestFinished(() => worker.stop());
    const spans = await waitFor("the route, the enqueue and two attempts", () => {
      const ended = exporter.getFinishedSpans();
      return ended.length >= 4 ? ended : null;
    });
    expect(spans).toHaveLength(4);

    const route = spans.find((s) => s.kind === SpanKind.SERVER) as ReadableSpan;
    expect(route.spanContext().traceId).toBe(callerTrace);
    expect(route.parentSpanContext).toMatchObject({ traceId: callerTrace, spanId: callerSpan, isRemote: true });
    // Both jobs in one enqueue span, in two queues: no single destination to name.
    const [send] = spans.filter((s) => s.kind === SpanKind.PRODUCER);
    expect(send?.name).toBe("send");
    expect(send?.attributes).toMatchObject({ "messaging.batch.message_count": 2, "overseer.job.task": "receipt" });
    expect(send?.attributes["messaging.destination.name"]).toBeUndefined();
    expect(send && parentOf(send)).toBe(idOf(route));
    for (const job of res.body as Job[]) {
      expect(job.traceContext).toEqual({
        traceparent: `00-${callerTrace}-${send?.spanContext().spanId}-01`,
        tracestate: "vendor=abc",
      });
    }
    const processes = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(processes.map((s) => s.name).sort()).toEqual(["process default", "process mail"]);
    for (const span of processes) {
      expect(span.spanContext().traceId).toBe(callerTrace);
      expect(parentOf(span)).toBe(send && idOf(send));
      expect(span.spanContext().traceState?.get("vendor")).toBe("abc");
    }
  });

  it("an enqueue outside any span starts a trace of its own; a rejected one records its error", async () => {
    const exporter = installSdk();
    const api = await testApi();
    const job = await api.overseer.enqueue("receipt", null);
    await expect(api.overseer.enqueue("receipt", null, { priority: "urgent" as never })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    const limit = { key: "k", limit: 1, onLimit: "reject" } as const;
    await api.overseer.enqueue("receipt", null, { concurrency: limit });
    await expect(api.overseer.enqueue("receipt", null, { concurrency: limit })).rejects.toMatchObject({
      code: "CONCURRENCY_LIMIT_REACHED",
    });

    const spans = exporter.getFinishedSpans();
    // The invalid options were refused before any span: three enqueues reached the store.
    expect(spans).toHaveLength(3);
    const [ok, , refused] = spans;
    expect(ok?.parentSpanContext).toBeUndefined();
    expect(job.traceContext?.traceparent).toBe(ok && traceparentOf(ok.spanContext()));
    expect(refused?.status.code).toBe(SpanStatusCode.ERROR);
    expect(refused?.attributes["error.type"]).toBe("CONCURRENCY_LIMIT_REACHED");
    expect(refused?.events.map((e) => e.name)).toEqual(["exception"]);
  });
  it("a job a breaker diverts to its fallback hands the fallback its trace", async () => {
    const exporter = installSdk();
    const overseer = await (await testDatabase()).open();
    overseer.defineTask(
      "call",
      () => {
        throw new Error("provider unreachable");
      },
      { queue: "calls", maxAttempts: 1 },
    );
    overseer.defineTask("sms", async () => "sent");
    const worker = overseer.worker({
      pollMs: 20,
      maintenanceMs: 50,
      breakers: { calls: { failureRate: 0.5, minAttempts: 1, window: "1m", cooldown: "1h", divertTo: "sms" } },
    });
    await worker.start();
    onTestFinished(() => worker.stop());
    await overseer.enqueue("call", null);
    await waitFor("the breaker to open", async () => {
      const queue = (await overseer.listQueues()).find((q) => q.name === "calls");
      return queue?.breaker?.state === "open";
    });
    const call = await overseer.enqueue("call", null);
    const sms = await waitFor("the call's fallback to be sent", async () => {
      const [job] = await overseer.listJobs({ task: "sms", states: ["succeeded"] });
      return job;
    });
    expect((await overseer.getJob(call.id))?.state).toBe("cancelled");
    expect(call.traceContext).not.toBeNull();
    expect(sms.traceContext).toEqual(call.traceContext);
    const spans = await waitFor("the fallback's attempt span", () => {
      const ended = exporter.getFinishedSpans();
      return ended.some((s) => s.attributes["messaging.message.id"] === sms.id) ? ended : null;
    });
    const send = spans.find((s) => s.kind === SpanKind.PRODUCER && s.attributes["messaging.message.id"] === call.id);
    const process = spans.find((s) => s.attributes["messaging.message.id"] === sms.id) as ReadableSpan;
    expect(parentOf(process)).toBe(send && idOf(send));
  });
  it("enqueueWithin joins the active span, in the caller's own transaction", async () => {
    const exporter = installSdk();
    const db = await testDatabase();
    const overseer = await db.open();
    const order = trace.getTracer("shop");
    let job: Job;
    if (db.backend === "sqlite") {
      const raw = new Database(db.database);
      onTestFinished(() => {
        raw.close();
      });
      // Synchronous on SQLite: the enqueue's span ends before the transaction commits.
      job = order.startActiveSpan("place order", (span) => {
        try {
          return raw.transaction(() => overseer.enqueueWithin(raw, "ship", { order: 1 }))();
        } finally {
          span.end();
        }
      });
    } else {
      const client = new pg.Client({ connectionString: db.database });
      await client.connect();
      onTestFinished(() => client.end());
      job = await order.startActiveSpan("place order", async (span) => {
        try {
          await client.query("BEGIN");
          const enqueued = await overseer.enqueueWithin(client, "ship", { order: 1 });
          await client.query("COMMIT");
          return enqueued;
        } finally {
          span.end();
        }
      });
    }
    const [send, placed] = exporter.getFinishedSpans();
    expect([send?.name, placed?.name]).toEqual(["send default", "place order"]);
    expect(send && parentOf(send)).toBe(placed && idOf(placed));
    expect(job.traceContext?.traceparent).toBe(send && traceparentOf(send.spanContext()));
    expect((await overseer.getJob(job.id))?.traceContext).toEqual(job.traceContext);
  });
});

describe("tracing without an SDK", () => {
  it("stores no trace context and starts no span, even with a traceparent from the caller", async () => {
    expect(tracer()).toBeNull();
    const api = await testApi();
    defineTasks(api.overseer);
    const res = await api.request("POST", "/api/v1/jobs", {
      token: api.tokens.operator,
      body: { task: "charge" },
      headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    });
    expect(res.status).toBe(201);
    expect(res.body.traceContext).toBeNull();
    const { charge, receipt, audit } = await runAll(api, res.body.id);
    expect(charge.attempts).toBe(2);
    expect([charge, receipt, audit].map((j) => j.traceContext)).toEqual([null, null, null]);
  });
});
