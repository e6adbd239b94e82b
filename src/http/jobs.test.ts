/** /api/v1/jobs over real HTTP: enqueue, list and page, read, operate with versions, bulk. */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";

describe("POST /api/v1/jobs", () => {
  it("enqueues one job with the SDK's options: 201 with the job; the same idempotency key again: 200 with it", async () => {
    const api = await testApi();
    const token = api.tokens.operator;
    const body = {
      task: "send-email",
      payload: { to: "ada@example.com" },
      options: { priority: "high", idempotencyKey: "welcome-ada", timeout: "2m" },
    };
    const first = await api.request("POST", "/api/v1/jobs", { token, body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      task: "send-email",
      state: "queued",
      priority: -10,
      payload: { to: "ada@example.com" },
      timeoutMs: 120_000,
      version: 1,
    });
    const again = await api.request("POST", "/api/v1/jobs", { token, body });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(await api.overseer.countJobs()).toMatchObject({ queued: 1 });
  });

  it("warns TASK_NOT_REGISTERED for a task no worker has registered, enqueues it anyway, and job reads say so", async () => {
    const api = await testApi();
    const token = api.tokens.operator;
    const early = await api.request("POST", "/api/v1/jobs", { token, body: { task: "send-email" } });
    expect(early.status).toBe(201);
    expect(early.body).toMatchObject({ task: "send-email", state: "queued", taskRegistered: false });
    expect(early.body.warnings).toEqual([
      {
        code: "TASK_NOT_REGISTERED",
        message: "no worker has registered task 'send-email'; no worker has registered any task yet",
        task: "send-email",
      },
    ]);

    // A worker in another process registers send-email on the same database.
    await api.overseer.store.registerWorker({
      id: "w-1",
      name: "mailer",
      host: "h",
      pid: 1,
      queues: null,
      tasks: ["send-email", "report"],
      concurrency: 1,
    });
    const typo = await api.request("POST", "/api/v1/jobs", { token, body: { task: "sned-email" } });
    expect(typo.status).toBe(201);
    expect(typo.body).toMatchObject({ task: "sned-email", taskRegistered: false });
    expect(typo.body.warnings).toEqual([
      {
        code: "TASK_NOT_REGISTERED",
        message: "no worker has registered task 'sned-email'; known tasks: send-email, report",
        task: "sned-email",
      },
    ]);
    const ok = await api.request("POST", "/api/v1/jobs", { token, body: { task: "send-email" } });
    expect(ok.body).toMatchObject({ task: "send-email", taskRegistered: true, warnings: [] });

    const bulk = await api.request("POST", "/api/v1/jobs", { token, body: [{ task: "report" }, { task: "reprot" }] });
    expect(bulk.status).toBe(201);
    expect(
      bulk.body.map((j: { task: string; taskRegistered: boolean; warnings: Array<{ code: string }> }) => [
        j.task,
        j.taskRegistered,
        j.warnings.map((w) => w.code),
      ]),
    ).toEqual([
      ["report", true, []],
      ["reprot", false, ["TASK_NOT_REGISTERED"]],
    ]);

    // Reads: the detail and the listing carry taskRegistered (the first job's task is known now).
    const detail = async (id: string) => (await api.request("GET", `/api/v1/jobs/${id}`, { token })).body.job;
    expect(await detail(typo.body.id)).toMatchObject({ taskRegistered: false });
    expect(await detail(early.body.id)).toMatchObject({ taskRegistered: true });
    expect((await detail(ok.body.id)).warnings).toBeUndefined();
    const list = await api.request("GET", "/api/v1/jobs", { token });
    expect(
      Object.fromEntries(
        list.body.items.map((j: { task: string; taskRegistered: boolean }) => [j.task, j.taskRegistered]),
      ),
    ).toEqual({ "send-email": true, "sned-email": false, report: true, reprot: false });
  });

  it("enqueues an array in one transaction: all or nothing", async () => {
    const api = await testApi();
    const token = api.tokens.operator;
    const ok = await api.request("POST", "/api/v1/jobs", {
      token,
      body: [{ task: "a" }, { task: "b", options: { delay: "1h" } }],
    });
    expect(ok.status).toBe(201);
    expect(ok.body.map((j: { task: string; state: string }) => [j.task, j.state])).toEqual([
      ["a", "queued"],
      ["b", "scheduled"],
    ]);
    const bad = await api.request("POST", "/api/v1/jobs", {
      token,
      body: [{ task: "c" }, { task: "d", options: { priority: "urgent" } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { index: 1 } });
    expect(bad.body.error.message).toMatch(/^item 1: priority/);
    expect((await api.overseer.listJobs()).map((j) => j.task).sort()).toEqual(["a", "b"]);
  });

  it("takes a retry schedule as a list of delays and returns it with the job", async () => {
    const api = await testApi();
    const body = { task: "call", options: { backoff: ["1m", "5m", "15m"], maxAttempts: 4 } };
    const res = await api.request("POST", "/api/v1/jobs", { token: api.tokens.operator, body });
    expect(res.status).toBe(201);
    expect(res.body.backoff).toEqual({ type: "schedule", delaysMs: [60_000, 300_000, 900_000], jitter: 0 });
    const preview = await api.request("GET", `/api/v1/jobs/${res.body.id}/retry-preview`, {
      token: api.tokens.viewer,
    });
    expect(preview.body.nextDelaysMs).toEqual([60_000, 300_000, 900_000]);
  });

  it.each([
    ["an unknown field", { task: "t", nope: 1 }, 'body: unknown field "nope"'],
    ["an unknown option", { task: "t", options: { retries: 3 } }, 'body.options: unknown field "retries"'],
    ["a missing task", { payload: {} }, "body.task: is required"],
    ["a task of the wrong type", { task: 42 }, "body.task: must be string"],
    ["a bad task name", { task: "no spaces" }, "task must be 1-128 characters"],
    ["a timeout of nothing", { task: "t", options: { timeout: "0s" } }, "timeout must be from 1ms"],
    ["a timeout of no duration", { task: "t", options: { timeout: "a while" } }, "timeout must be a duration"],
    [
      "an empty retry schedule",
      { task: "t", options: { backoff: [] } },
      'backoff must be a list of 1 to 100 delays such as ["1m", "5m", "15m"]; got a list of 0',
    ],
    [
      "a bad step of a retry schedule",
      { task: "t", options: { backoff: ["1m", "later"] } },
      "backoff[1] must be a duration",
    ],
    [
      "a backoff of no known type",
      { task: "t", options: { backoff: { type: "linear" } } },
      "backoff.type must be exponential, fixed or schedule",
    ],
    [
      "a backoff that is a string",
      { task: "t", options: { backoff: "1m" } },
      "body.options.backoff: must be object,array",
    ],
    [
      "a bad item in an array",
      [{ task: "t" }, { task: "t", options: { queue: 7 } }],
      "body.1.options.queue: must be string",
    ],
  ])("refuses %s with 400 naming the field", async (_, body, message) => {
    const api = await testApi();
    const res = await api.request("POST", "/api/v1/jobs", { token: api.tokens.operator, body });
    expect(res.status).toBe(400);
    expect(["INVALID_ARGUMENT", "INVALID_TASK_NAME"]).toContain(res.body.error.code);
    expect(res.body.error.message).toContain(message);
    expect(await api.overseer.listJobs()).toEqual([]);
  });

  it("refuses malformed JSON with 400 and the envelope", async () => {
    const api = await testApi();
    const res = await api.request("POST", "/api/v1/jobs", { token: api.tokens.operator, raw: '{"task": "t",' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: "INVALID_ARGUMENT",
        message: "the request body is not valid JSON, or holds a __proto__ or constructor.prototype key (refused)",
        details: {},
      },
    });
    const poisoned = await api.request("POST", "/api/v1/jobs", {
      token: api.tokens.operator,
      raw: '{"task": "t", "payload": {"__proto__": {"admin": true}}}',
    });
    expect(poisoned.status).toBe(400);
    expect(await api.overseer.listJobs()).toEqual([]);
  });
});

describe("GET /api/v1/jobs", () => {
  it("filters by state, queue, task and text, newest first", async () => {
    const api = await testApi();
    const o = api.overseer;
    const a = await o.enqueue("send", {}, { queue: "mail", idempotencyKey: "order-17" });
    const b = await o.enqueue("send", {}, { queue: "sms" });
    const c = await o.enqueue("report", {}, { queue: "mail" });
    await o.cancel(b.id);
    const ids = async (query: string) => {
      const res = await api.request("GET", `/api/v1/jobs${query}`, { token: api.tokens.viewer });
      expect(res.status).toBe(200);
      return res.body.items.map((j: { id: string }) => j.id);
    };
    expect(await ids("")).toEqual([c.id, b.id, a.id]);
    expect(await ids("?state=queued")).toEqual([c.id, a.id]);
    expect(await ids("?state=cancelled,queued&queue=sms")).toEqual([b.id]);
    expect(await ids("?task=send")).toEqual([b.id, a.id]);
    expect(await ids("?q=order-1")).toEqual([a.id]);
    expect(await ids(`?q=${c.id}`)).toEqual([c.id]);
    expect(await ids(`?createdAfter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect(await ids(`?finishedAfter=2000-01-01T00:00:00Z`)).toEqual([b.id]);
    const bad = await api.request("GET", "/api/v1/jobs?state=failed", { token: api.tokens.viewer });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "INVALID_STATE_FILTER", details: { field: "state" } });
    const unknown = await api.request("GET", "/api/v1/jobs?sort=asc", { token: api.tokens.viewer });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('querystring: unknown field "sort"');
  });

  it("filters by payload fields, and acts on what they match; bad paths and values are 400s", async () => {
    const api = await testApi();
    const o = api.overseer;
    const a = await o.enqueue("call", { phone: "+15550100", customer: { id: 42 } }, { delay: "1h" });
    const b = await o.enqueue("call", { phone: "+15550101", customer: { id: "42" } }, { delay: "1h" });
    const c = await o.enqueue("call", { phone: "+15550100", customer: { id: 7 } }, { delay: "1h" });
    const ids = async (query: string) => {
      const res = await api.request("GET", `/api/v1/jobs${query}`, { token: api.tokens.viewer });
      expect(res.status, query).toBe(200);
      return res.body.items.map((j: { id: string }) => j.id);
    };
    expect(await ids(`?payload.phone=${encodeURIComponent("+15550100")}`)).toEqual([c.id, a.id]);
    expect(await ids("?payload.customer.id=42")).toEqual([b.id, a.id]);
    expect(await ids(`?payload.customer.id=42&payload.phone=${encodeURIComponent("+15550101")}`)).toEqual([b.id]);
    expect(await ids("?payload.customer.id=8")).toEqual([]);
    expect(await ids("?payload.nope=x&state=scheduled")).toEqual([]);

    // The bulk operations take the same filter in their body.
    const cancelled = await api.request("POST", "/api/v1/jobs/cancel", {
      token: api.tokens.operator,
      body: { "payload.phone": "+15550100" },
    });
    expect(cancelled.body).toMatchObject({ matched: 2, changed: 2 });
    expect((await o.getJob(b.id))?.state).toBe("scheduled");

    for (const [query, message] of [
      ["?payload.=x", "payload.: a payload path is 1 to 5 keys"],
      ["?payload.a..b=x", "payload.a..b: a payload path is"],
      [`?payload.${encodeURIComponent("a b")}=x`, "a payload path is"],
      ["?payload.a.b.c.d.e.f=x", "a payload path is 1 to 5 keys"],
      [`?payload.a=${"x".repeat(501)}`, "must NOT have more than 500 characters"],
      [
        "?payload.a=1&payload.b=1&payload.c=1&payload.d=1&payload.e=1&payload.f=1",
        "at most 5 payload fields per filter; got 6",
      ],
    ] as const) {
      const res = await api.request("GET", `/api/v1/jobs${query}`, { token: api.tokens.viewer });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("INVALID_ARGUMENT");
      expect(res.body.error.message, query).toContain(message);
    }
  });

  it("pages with an opaque cursor until nextCursor is null", async () => {
    const api = await testApi();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await api.overseer.enqueue("t")).id);
    const pages: string[][] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const query: string = `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await api.request("GET", `/api/v1/jobs${query}`, { token: api.tokens.viewer });
      pages.push(res.body.items.map((j: { id: string }) => j.id));
      cursor = res.body.nextCursor;
      if (cursor === null) break;
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(created.reverse());
    for (const bad of ["nope", "e30", "eyJiIjoxfQ"]) {
      const res = await api.request("GET", `/api/v1/jobs?cursor=${bad}`, { token: api.tokens.viewer });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual({ field: "cursor" });
    }
    for (const limit of ["0", "501", "ten"]) {
      const res = await api.request("GET", `/api/v1/jobs?limit=${limit}`, { token: api.tokens.viewer });
      expect(res.status).toBe(400);
    }
  });

  it("pages oldest first with order=asc, also across jobs created in the same millisecond", async () => {
    const api = await testApi();
    const created = (await api.overseer.enqueueMany(Array.from({ length: 8 }, () => ({ task: "t" })))).map((j) => j.id);
    const more = await api.overseer.enqueue("u");
    created.push(more.id);
    const pages: string[][] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const query: string = `?order=asc&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await api.request("GET", `/api/v1/jobs${query}`, { token: api.tokens.viewer });
      expect(res.status).toBe(200);
      pages.push(res.body.items.map((j: { id: string }) => j.id));
      cursor = res.body.nextCursor;
      if (cursor === null) break;
    }
    expect(pages.map((p) => p.length)).toEqual([4, 4, 1]);
    expect(pages.flat()).toEqual(created);
    const filtered = await api.request("GET", "/api/v1/jobs?order=asc&task=u", { token: api.tokens.viewer });
    expect(filtered.body.items.map((j: { id: string }) => j.id)).toEqual([more.id]);
    const bad = await api.request("GET", "/api/v1/jobs?order=up", { token: api.tokens.viewer });
    expect(bad.status).toBe(400);
  });
});

describe("GET /api/v1/jobs/:id", () => {
  it("gives the job's lifecycle apart from its latest events, which many step events can fill", async () => {
    const api = await testApi();
    const job = await api.overseer.enqueue("t");
    const read = async () =>
      (await api.request("GET", `/api/v1/jobs/${job.id}`, { token: api.tokens.viewer })).body as {
        events: { kind: string }[];
        lifecycle: { kind: string }[];
      };
    const few = await read();
    expect(few.lifecycle.map((e) => e.kind)).toEqual(["job.enqueued"]);
    await api.overseer.store.appendEvents(
      Array.from({ length: 150 }, (_, i) => ({
        kind: "step.started",
        jobId: job.id,
        data: { name: `s${i}`, attempt: 1 },
      })),
    );
    const many = await read();
    expect(many.events).toHaveLength(100);
    expect(many.events.every((e) => e.kind === "step.started")).toBe(true);
    expect(many.lifecycle.map((e) => e.kind)).toEqual(["job.enqueued"]);
  });

  it("gives the job with its attempts, errors, progress and events, and its version as ETag", async () => {
    const api = await testApi();
    const o = api.overseer;
    o.defineTask(
      "flaky",
      async (_payload, ctx) => {
        await ctx.progress({ step: ctx.attempt });
        if (ctx.attempt === 1) throw new Error("first try fails");
        return { ok: true };
      },
      { backoff: { type: "fixed", delay: 0 } },
    );
    const job = await o.enqueue("flaky");
    const worker = o.worker({ concurrency: 1 });
    await worker.start();
    for (let i = 0; i < 500 && (await o.getJob(job.id))?.state !== "succeeded"; i++)
      await new Promise((r) => setTimeout(r, 10));
    await worker.stop();
    const res = await api.request("GET", `/api/v1/jobs/${job.id}`, { token: api.tokens.viewer });
    expect(res.status).toBe(200);
    expect(res.body.job).toMatchObject({ id: job.id, state: "succeeded", result: { ok: true }, progress: { step: 2 } });
    expect(res.headers.get("etag")).toBe(`"${res.body.job.version}"`);
    expect(res.body.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["failed", "succeeded"]);
    expect(res.body.attempts[0].error).toMatchObject({ message: "first try fails", retryable: true });
    // The stack the handler's error had is part of the attempt's record, for whoever debugs it;
    // listings carry only code and message.
    expect(res.body.attempts[0].error.stack).toContain("first try fails");
    expect(res.body.attempts[0].error.stack).toBe((await o.listAttempts(job.id))[0]?.error?.stack);
    expect(res.body.job.lastError ?? {}).not.toHaveProperty("stack");
    const kinds = res.body.events.map((e: { kind: string }) => e.kind);
    expect(kinds[0]).toBe("job.enqueued");
    expect(kinds).toContain("job.progress");
    expect(kinds.at(-1)).toBe("job.succeeded");
  });

  it("answers 404 JOB_NOT_FOUND for an unknown id and 400 for an absurd one", async () => {
    const api = await testApi();
    const missing = await api.request("GET", "/api/v1/jobs/01NOSUCHJOB0000000000000000", { token: api.tokens.viewer });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "JOB_NOT_FOUND", details: { id: "01NOSUCHJOB0000000000000000" } });
    const long = await api.request("GET", `/api/v1/jobs/${"x".repeat(65)}`, { token: api.tokens.viewer });
    expect(long.status).toBe(400);
    expect(long.body.error.message).toBe("params.id: must NOT have more than 64 characters");
  });
});

describe("retry, cancel and discard", () => {
  it("a stale If-Match or version gets 409 VERSION_CONFLICT and changes nothing; the current one applies", async () => {
    const api = await testApi();
    const token = api.tokens.admin;
    const job = await api.overseer.enqueue("t");
    const read = await api.request("GET", `/api/v1/jobs/${job.id}`, { token });
    const tag = read.headers.get("etag") as string;

    const cancel = await api.request("POST", `/api/v1/jobs/${job.id}/cancel`, { token, headers: { "if-match": tag } });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ effect: "cancelled", job: { state: "cancelled" } });

    const stale = await api.request("POST", `/api/v1/jobs/${job.id}/retry`, { token, headers: { "if-match": tag } });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: "VERSION_CONFLICT", details: { expectedVersion: job.version } });
    const staleBody = await api.request("POST", `/api/v1/jobs/${job.id}/discard`, {
      token,
      body: { version: job.version },
    });
    expect(staleBody.status).toBe(409);
    expect((await api.overseer.getJob(job.id))?.state).toBe("cancelled");

    const version = cancel.body.job.version;
    const retried = await api.request("POST", `/api/v1/jobs/${job.id}/retry`, { token, body: { version } });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ state: "queued", version: version + 1 });
    const wrong = await api.request("POST", `/api/v1/jobs/${job.id}/cancel`, { token, headers: { "if-match": "v2" } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details).toEqual({ field: "If-Match" });
    const disagree = await api.request("POST", `/api/v1/jobs/${job.id}/cancel`, {
      token,
      headers: { "if-match": `"${version + 1}"` },
      body: { version },
    });
    expect(disagree.status).toBe(400);
    const anyVersion = await api.request("POST", `/api/v1/jobs/${job.id}/cancel`, {
      token,
      headers: { "if-match": "*" },
    });
    expect(anyVersion.status).toBe(200);
    const discarded = await api.request("POST", `/api/v1/jobs/${job.id}/discard`, { token });
    expect(discarded.body).toEqual({ id: job.id, discarded: true });
    expect(await api.overseer.getJob(job.id)).toBeNull();
  });

  it("a transition the state does not allow is 409 INVALID_TRANSITION", async () => {
    const api = await testApi();
    const job = await api.overseer.enqueue("t");
    const res = await api.request("POST", `/api/v1/jobs/${job.id}/retry`, { token: api.tokens.operator });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "INVALID_TRANSITION", details: { state: "queued" } });
  });

  it("retry or discard of a running job is 429 BUSY with Retry-After, whichever node runs it", async () => {
    const api = await testApi();
    const job = await api.overseer.enqueue("t");
    // Claimed as a worker on another node would claim it: the state is the database's.
    const [claimed] = await api.overseer.store.claim({
      workerId: "elsewhere",
      limit: 1,
      tasks: ["t"],
      queues: null,
      leaseMs: 60_000,
    });
    expect(claimed?.job.id).toBe(job.id);
    for (const verb of ["retry", "discard"]) {
      const res = await api.request("POST", `/api/v1/jobs/${job.id}/${verb}`, { token: api.tokens.admin });
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(res.body.error).toMatchObject({ code: "BUSY", details: { job: job.id, state: "running", retryAfter: 1 } });
    }
    expect((await api.overseer.getJob(job.id))?.state).toBe("running");
  });
});

describe("bulk operations", () => {
  it("apply to the jobs a filter matches, up to the limit, and count what they did", async () => {
    const api = await testApi();
    const o = api.overseer;
    const mail = [];
    for (let i = 0; i < 5; i++) mail.push(await o.enqueue("send", {}, { queue: "mail" }));
    const other = await o.enqueue("send", {}, { queue: "sms" });
    const token = api.tokens.admin;

    const cancelled = await api.request("POST", "/api/v1/jobs/cancel", { token, body: { queue: "mail", limit: 3 } });
    expect(cancelled.body).toEqual({ matched: 3, changed: 3, skipped: [] });
    expect((await o.countJobs()).cancelled).toBe(3);

    const retried = await api.request("POST", "/api/v1/jobs/retry", { token, body: { queue: "mail" } });
    expect(retried.body).toEqual({ matched: 3, changed: 3, skipped: [] });

    await api.request("POST", "/api/v1/jobs/cancel", { token, body: { task: "send" } });
    const discarded = await api.request("POST", "/api/v1/jobs/discard", {
      token,
      body: { state: ["cancelled"], queue: "sms" },
    });
    expect(discarded.body).toEqual({ matched: 1, changed: 1, skipped: [] });
    expect(await o.getJob(other.id)).toBeNull();
    expect((await o.listJobs()).length).toBe(5);

    const outside = await api.request("POST", "/api/v1/jobs/retry", { token, body: { state: ["queued"] } });
    expect(outside.status).toBe(400);
    expect(outside.body.error.message).toBe("retry applies only to dead, cancelled jobs; not queued");
    const tooMany = await api.request("POST", "/api/v1/jobs/cancel", { token, body: { limit: 10_001 } });
    expect(tooMany.status).toBe(400);
  });
});

describe("acting on everything a filter matches", () => {
  it("retries 1,000 dead jobs of one task in one request, leaving the other task's dead job alone", async () => {
    const api = await testApi();
    const o = api.overseer;
    o.defineTask("flaky", async () => {
      throw new Error("the service is down");
    });
    o.defineTask("other", async () => {
      throw new Error("down too");
    });
    const items = Array.from({ length: 1_000 }, (_, i) => ({
      task: "flaky",
      payload: { i },
      options: { maxAttempts: 1 },
    }));
    await o.enqueueMany([...items, { task: "other", payload: null, options: { maxAttempts: 1 } }]);
    const worker = o.worker({ concurrency: 50, pollMs: 10 });
    await worker.start();
    try {
      await waitFor("1,001 dead jobs", async () => (await o.countJobs()).dead === 1_001, { timeoutMs: 60_000 });
    } finally {
      await worker.stop();
    }
    const token = api.tokens.operator;
    const counted = await api.request("GET", "/api/v1/jobs/count?state=dead&task=flaky", { token });
    expect(counted.body).toEqual({ count: 1_000, capped: false });

    const retried = await api.request("POST", "/api/v1/jobs/retry", { token, body: { task: "flaky", limit: 1_000 } });
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ matched: 1_000, changed: 1_000, skipped: [] });
    expect(await o.countJobs()).toMatchObject({ dead: 1, queued: 1_000 });
    const left = await api.request("GET", "/api/v1/jobs/count?state=dead", { token });
    expect(left.body).toEqual({ count: 1, capped: false });
  });

  it("reads past 1,000 jobs a page at a time inside one request, each job once", async () => {
    const api = await testApi();
    const o = api.overseer;
    await o.enqueueMany(Array.from({ length: 1_100 }, (_, i) => ({ task: "send", payload: { i } })));
    const token = api.tokens.operator;
    const cancelled = await api.request("POST", "/api/v1/jobs/cancel", { token, body: { task: "send", limit: 5_000 } });
    expect(cancelled.body).toEqual({ matched: 1_100, changed: 1_100, skipped: [] });
    expect((await o.countJobs()).cancelled).toBe(1_100);
    const tooMany = await api.request("POST", "/api/v1/jobs/retry", { token, body: { limit: 10_001 } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe("INVALID_ARGUMENT");
  });
});

describe("GET /api/v1/jobs/count", () => {
  it("counts what the listing's filter matches, and stops counting at the cap", async () => {
    const api = await testApi();
    const o = api.overseer;
    for (let i = 0; i < 3; i++) await o.enqueue("send", { to: `p${i}` }, { queue: "mail" });
    await o.enqueue("send", { to: "p9" }, { queue: "sms" });
    await o.enqueue("bill", { to: "p0" }, { queue: "mail" });
    const token = api.tokens.viewer;
    const count = async (q: string) => (await api.request("GET", `/api/v1/jobs/count${q}`, { token })).body;
    expect(await count("")).toEqual({ count: 5, capped: false });
    expect(await count("?queue=mail")).toEqual({ count: 4, capped: false });
    expect(await count("?queue=mail&task=send&state=queued,running")).toEqual({ count: 3, capped: false });
    expect(await count("?payload.to=p0")).toEqual({ count: 2, capped: false });
    expect(await count("?state=dead")).toEqual({ count: 0, capped: false });
    expect(await count(`?createdAfter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual({
      count: 0,
      capped: false,
    });
    // The store's count reads no further than its cap, whatever the filter.
    expect(await o.countMatchingJobs({}, 2)).toBe(2);
    expect(await o.countMatchingJobs({ queue: "mail", states: ["queued"] }, 3)).toBe(3);
  });

  it("refuses bad filters with 400 and a code", async () => {
    const api = await testApi();
    const token = api.tokens.viewer;
    const bad = async (q: string) => {
      const res = await api.request("GET", `/api/v1/jobs/count${q}`, { token });
      expect(res.status, q).toBe(400);
      return res.body.error.code;
    };
    expect(await bad("?state=sleeping")).toBe("INVALID_STATE_FILTER");
    expect(await bad("?createdAfter=yesterday")).toBe("INVALID_ARGUMENT");
    expect(await bad("?limit=5")).toBe("INVALID_ARGUMENT");
    expect(await bad("?payload.a..b=1")).toBeTypeOf("string");
  });
});

describe("GET /api/v1/tasks", () => {
  it("lists the registered tasks and the server's own, sorted, once each", async () => {
    const api = await testApi();
    await api.overseer.store.registerWorker({
      id: "w-1",
      name: "mailer",
      host: "h",
      pid: 1,
      queues: null,
      tasks: ["send-email", "report"],
      concurrency: 1,
    });
    api.overseer.defineTask("archive", async () => null);
    api.overseer.defineTask("report", async () => null);
    const res = await api.request("GET", "/api/v1/tasks", { token: api.tokens.viewer });
    expect(res.status).toBe(200);
    expect(res.body.items.filter((n: string) => !n.startsWith("overseer."))).toEqual([
      "archive",
      "report",
      "send-email",
    ]);
    expect((await api.request("GET", "/api/v1/tasks")).status).toBe(401);
  });
});
