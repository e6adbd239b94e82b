/**
 * Traces across the queue, through the OpenTelemetry API: a producer span around each enqueue
 * (the SDK's), a consumer span around each attempt, and the W3C trace context of the first
 * stored with the job so that every attempt of it is a child of its enqueue, however many
 * processes and retries apart. The attribute names follow OpenTelemetry's messaging
 * conventions where they fit (`messaging.system` is "overseer"); see docs/tracing.md.
 *
 * With no SDK installed (the API's global tracer provider unset) no span is made: each entry
 * point asks `tracer()` first, which then answers null, and the job's trace context stays null. The job carries W3C `traceparent` and `tracestate` whatever propagator the application
 * configured, written and read here; the application's propagator reads only HTTP headers.
 */
import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import type { NewJob } from "../core/job-options.js";
import type { Job, JobError, TraceContext } from "../core/types.js";

/** The instrumentation scope of every span Overseer starts. */
export const TRACER_NAME = "overseer";
/** `messaging.system` on every span of a job. */
export const MESSAGING_SYSTEM = "overseer";

/** What the API's global provider delegates to while no SDK has registered one. */
const NO_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();
let cached: { provider: TracerProvider; tracer: Tracer } | null = null;

/**
 * Overseer's tracer, or null while no SDK is installed. Asked again at every span, so that an
 * SDK registered (or, in tests, disabled and registered anew) later is seen at once. The API's
 * global provider is a proxy whatever registered it (this package's copy of the API or the
 * application's); its delegate is the SDK's provider, or the no-op one while none is set.
 */
export function tracer(): Tracer | null {
  const global = trace.getTracerProvider();
  const provider = (global as Partial<ProxyTracerProvider>).getDelegate?.() ?? global;
  if (provider === NO_PROVIDER) return null;
  if (cached?.provider !== provider) cached = { provider, tracer: provider.getTracer(TRACER_NAME) };
  return cached.tracer;
}

/** A span's context as a job keeps it, or null for a span that has none (a no-op span). */
export function traceContextOf(span: Span): TraceContext | null {
  const c = span.spanContext();
  if (!isSpanContextValid(c)) return null;
  const flags = (c.traceFlags & 0xff).toString(16).padStart(2, "0");
  const state = c.traceState?.serialize() ?? "";
  return { traceparent: `00-${c.traceId}-${c.spanId}-${flags}`, tracestate: state === "" ? null : state };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The context a stored trace context names as a remote parent; the root context if it is not one. */
export function parentContext(stored: TraceContext | null): Context {
  const m = stored === null ? null : TRACEPARENT.exec(stored.traceparent);
  if (m === null || stored === null) return ROOT_CONTEXT;
  const spanContext = {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: Number.parseInt(m[3] as string, 16),
    isRemote: true,
    ...(stored.tracestate === null ? {} : { traceState: createTraceState(stored.tracestate) }),
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}

/**
 * Runs `insert`, the store's insert of `jobs`, under a producer span (`send <queue>`), a child
 * of the active span if there is one, and has each job carry that span's context. With no SDK,
 * just runs it. `insert` may return a promise (the span ends when it settles) or a value.
 */
export function traceEnqueue<T>(jobs: readonly NewJob[], insert: () => T): T {
  const t = tracer();
  const first = jobs[0];
  if (t === null || first === undefined) return insert();
  const queue = jobs.every((j) => j.queue === first.queue) ? first.queue : null;
  const task = jobs.every((j) => j.task === first.task) ? first.task : null;
  const attributes: Attributes = {
    "messaging.system": MESSAGING_SYSTEM,
    "messaging.operation.type": "send",
    "messaging.operation.name": "send",
  };
  if (queue !== null) attributes["messaging.destination.name"] = queue;
  if (task !== null) attributes["overseer.job.task"] = task;
  if (jobs.length === 1) attributes["messaging.message.id"] = first.id;
  else attributes["messaging.batch.message_count"] = jobs.length;
  const parent = context.active();
  const span = t.startSpan(queue === null ? "send" : `send ${queue}`, { kind: SpanKind.PRODUCER, attributes }, parent);
  const carried = traceContextOf(span);
  if (carried !== null) for (const job of jobs) job.traceContext = carried;
  let out: T;
  try {
    out = context.with(trace.setSpan(parent, span), insert);
  } catch (err) {
    endWithError(span, err);
    throw err;
  }
  if (!(out instanceof Promise)) {
    span.end();
    return out;
  }
  return out.then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      endWithError(span, err);
      throw err;
    },
  ) as T;
}

/** When and how a job was claimed: shared by the jobs of one claim. */
export interface ClaimMark {
  /** When the claim's answer arrived, on `performance.now()`'s clock. */
  at: number;
  /** How many jobs the claim took. */
  jobs: number;
}

/**
 * The consumer span of one attempt (`process <queue>`), a child of the job's stored context (or
 * a root), with a `claimed` event at its claim's time (before the span's start when the job was
 * held for a free slot). Null with no SDK.
 */
export function startAttemptSpan(job: Job, workerId: string, claim: ClaimMark): Span | null {
  const t = tracer();
  if (t === null) return null;
  const span = t.startSpan(
    `process ${job.queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": MESSAGING_SYSTEM,
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": job.queue,
        "messaging.message.id": job.id,
        "messaging.client.id": workerId,
        "overseer.job.task": job.task,
        "overseer.job.attempt": job.attempts,
        "overseer.job.max_attempts": job.maxAttempts,
      },
    },
    parentContext(job.traceContext),
  );
  if (span.isRecording()) {
    span.addEvent("claimed", { "messaging.batch.message_count": claim.jobs }, performance.timeOrigin + claim.at);
  }
  return span;
}

/** Runs the handler with the attempt's span active, so what it enqueues joins the trace. */
export function inSpan<T>(span: Span | null, fn: () => T): T {
  if (span === null || !isSpanContextValid(span.spanContext())) return fn();
  return context.with(trace.setSpan(ROOT_CONTEXT, span), fn);
}

/**
 * How an attempt ended, on its span, which it ends: OK for a success; ERROR, with the error
 * recorded, for a failure (retried or dead); unset for an attempt that did not end by itself
 * (cancelled, handed back, parked, its lease lost), which its `overseer.attempt.outcome` says.
 */
export function endAttemptSpan(
  span: Span,
  outcome: "succeeded" | "retry" | "dead" | "cancelled" | "released" | "parked" | "lease_lost",
  error: JobError | null,
  thrown: unknown,
): void {
  span.setAttribute("overseer.attempt.outcome", outcome);
  if (outcome === "succeeded") span.setStatus({ code: SpanStatusCode.OK });
  else if ((outcome === "retry" || outcome === "dead") && error !== null) {
    span.setAttribute("error.type", error.code);
    if (thrown instanceof Error) span.recordException(thrown);
    else span.recordException({ name: error.code, message: error.message });
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.code}: ${error.message}` });
  }
  span.end();
}

/**
 * Runs an HTTP route's handler (`POST /jobs`) with a trace to join: the span already active if
 * the application instruments HTTP, or else a server span of its own, a child of the caller's
 * trace when the request's headers carry one (read by the application's propagator). With no
 * SDK, just runs it. The span ends when the handler has returned, with `reply`'s status code.
 */
export async function traceRoute<T>(
  request: { method: string; url: string; headers: Record<string, unknown>; route: string },
  reply: { readonly statusCode: number },
  handle: () => Promise<T>,
): Promise<T> {
  const t = tracer();
  if (t === null || trace.getSpan(context.active()) !== undefined) return handle();
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const query = request.url.indexOf("?");
  const span = t.startSpan(
    `${request.method} ${request.route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": request.method,
        "http.route": request.route,
        "url.path": query === -1 ? request.url : request.url.slice(0, query),
      },
    },
    parent,
  );
  let code = 500;
  try {
    const out = await context.with(trace.setSpan(parent, span), handle);
    code = reply.statusCode;
    return out;
  } catch (err) {
    const thrown = (err as { status?: unknown } | null)?.status;
    code = typeof thrown === "number" ? thrown : 500;
    span.recordException(err instanceof Error ? err : String(err));
    throw err;
  } finally {
    span.setAttribute("http.response.status_code", code);
    // A server span fails with the server's errors only; a 4xx is the caller's.
    if (code >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

function endWithError(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  if (typeof (err as { code?: unknown }).code === "string") {
    span.setAttribute("error.type", (err as { code: string }).code);
  }
  span.end();
}
