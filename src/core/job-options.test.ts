import { describe, expect, it } from "vitest";
import { type ErrorCode, OverseerError } from "./errors.js";
import {
  buildNewJob,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_QUEUE,
  describe as describeValue,
  type EnqueueOptions,
  MAX_SCHEDULE_DELAYS,
  PRIORITY_NAMES,
  parseBackoff,
  parsePriority,
  serializePayload,
  type TaskDefaults,
  validateName,
} from "./job-options.js";
import { DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS } from "./retry-policy.js";

/** Runs `fn`, expecting an OverseerError with `code` (and `field` in its details, when given). */
function expectError(fn: () => unknown, code: ErrorCode, field?: string): OverseerError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, "expected an OverseerError").toBeInstanceOf(OverseerError);
  const err = thrown as OverseerError;
  expect(err.code).toBe(code);
  if (field !== undefined) expect(err.details.field).toBe(field);
  return err;
}

const build = (options?: unknown, defaults?: TaskDefaults, payload: unknown = {}) =>
  buildNewJob("send-sms", payload, options as EnqueueOptions, defaults);

describe("buildNewJob: task names", () => {
  it.each([
    ["empty", ""],
    ["a space", "send sms"],
    ["a slash", "send/sms"],
    ["a leading dash", "-send"],
    ["a leading dot", ".send"],
    ["a leading underscore", "_send"],
    ["129 characters", `a${"b".repeat(128)}`],
    ["non-ASCII", "envoyer-é"],
    ["a newline", "send\n"],
    ["a number", 42],
    ["null", null],
    ["undefined", undefined],
    ["an object", { name: "x" }],
  ])("rejects %s with INVALID_TASK_NAME", (_label, name) => {
    expectError(() => buildNewJob(name, {}, undefined, undefined), "INVALID_TASK_NAME", "task");
  });

  it.each(["a", "send-sms", "Billing.Invoice:v2", "x_y", "0start", `a${"b".repeat(127)}`])("accepts %s", (name) => {
    expect(buildNewJob(name, {}, undefined, undefined).task).toBe(name);
  });

  it("says what it got", () => {
    const err = expectError(() => buildNewJob("bad name", {}, undefined, undefined), "INVALID_TASK_NAME");
    expect(err.message).toContain('"bad name"');
  });
});

describe("buildNewJob: payloads", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cases: Array<[string, unknown]> = [
    ["a function", () => 1],
    ["a nested function", { cb: () => 1 }],
    ["a BigInt", 10n],
    ["a nested BigInt", { n: 10n }],
    ["a cycle", cyclic],
    ["an undefined field", { a: undefined }],
    ["undefined in an array", [1, undefined, 3]],
    ["a sparse array", new Array<number>(3)],
    ["NaN", Number.NaN],
    ["a nested NaN", { x: Number.NaN }],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity in an array", [Number.NEGATIVE_INFINITY]],
    ["a symbol", Symbol("s")],
    ["a nested symbol", { s: Symbol("s") }],
    ["a toJSON returning undefined", { toJSON: () => undefined }],
  ];
  it.each(cases)("rejects %s with INVALID_PAYLOAD", (_label, payload) => {
    expectError(() => build(undefined, undefined, payload), "INVALID_PAYLOAD", "payload");
  });

  it("names the field at fault", () => {
    expect(expectError(() => build(undefined, undefined, { when: undefined }), "INVALID_PAYLOAD").message).toContain(
      '"when"',
    );
  });

  it.each<[string, unknown, string]>([
    ["no payload", undefined, "null"],
    ["null", null, "null"],
    ["a string", "hi", '"hi"'],
    ["a number", 1.5, "1.5"],
    ["zero", 0, "0"],
    ["false", false, "false"],
    ["an array", [1, "a", null], '[1,"a",null]'],
    ["a nested object", { a: { b: [true] } }, '{"a":{"b":[true]}}'],
    ["a Date (via toJSON)", new Date(Date.UTC(2030, 0, 1)), '"2030-01-01T00:00:00.000Z"'],
  ])("stores %s", (_label, payload, json) => {
    expect(buildNewJob("send-sms", payload, undefined, undefined).payloadJson).toBe(json);
    expect(serializePayload(payload)).toBe(json);
  });
});

describe("buildNewJob: timing", () => {
  it("starts now by default", () => {
    const job = build();
    expect(job.runAtMs).toBeNull();
    expect(job.delayMs).toBe(0);
  });

  it.each<[unknown, number]>([
    [0, 0],
    [1_500, 1_500],
    ["250ms", 250],
    ["30s", 30_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
  ])("takes delay %s", (delay, ms) => {
    const job = build({ delay });
    expect(job.delayMs).toBe(ms);
    expect(job.runAtMs).toBeNull();
  });

  it.each([-1, "-5s", "soon", Number.NaN, Number.POSITIVE_INFINITY, null, {}])("rejects delay %s", (delay) => {
    expectError(() => build({ delay }), "INVALID_ARGUMENT", "delay");
  });

  it.each<[string, unknown]>([
    ["a Date", new Date(Date.UTC(2030, 0, 1))],
    ["an ISO string", "2030-01-01T00:00:00.000Z"],
    ["epoch milliseconds", Date.UTC(2030, 0, 1)],
  ])("takes runAt as %s", (_label, runAt) => {
    expect(build({ runAt }).runAtMs).toBe(Date.UTC(2030, 0, 1));
  });

  it.each([new Date(Number.NaN), "not a date", Number.NaN, Number.POSITIVE_INFINITY, true, null, {}])(
    "rejects runAt %s",
    (runAt) => {
      expectError(() => build({ runAt }), "INVALID_ARGUMENT", "runAt");
    },
  );

  it("refuses runAt and delay together", () => {
    expectError(() => build({ runAt: Date.UTC(2030, 0, 1), delay: "5s" }), "INVALID_ARGUMENT", "delay");
    expectError(() => build({ runAt: Date.UTC(2030, 0, 1), delay: 0 }), "INVALID_ARGUMENT", "delay");
  });
});

describe("buildNewJob: timeout", () => {
  it.each<[unknown, number | null]>([
    [undefined, null],
    [1, 1],
    ["90s", 90_000],
    ["24d", 24 * 86_400_000],
    [2 ** 31 - 1, 2 ** 31 - 1],
  ])("takes %j as %j ms", (timeout, ms) => {
    expect(build(timeout === undefined ? {} : { timeout: timeout as number }).timeoutMs).toBe(ms);
  });

  it.each([0, "0s", -1, 2 ** 31, "25d", "soon", null, {}])("refuses %j naming the field", (timeout) => {
    expectError(() => build({ timeout: timeout as number }), "INVALID_ARGUMENT", "timeout");
  });
});

describe("buildNewJob: options object", () => {
  it.each(["prio", "Queue", "retries", "timeoutMs", "__proto__x"])("rejects the unknown option %s", (option) => {
    const err = expectError(() => build({ [option]: 1 }), "INVALID_ARGUMENT", option);
    expect(err.message).toContain(option);
  });

  it.each<[string, unknown]>([
    ["an array", []],
    ["a string", "high"],
    ["a number", 3],
  ])("rejects options that are %s", (_label, options) => {
    expectError(() => build(options), "INVALID_ARGUMENT", "options");
  });

  it("treats null and undefined options as none", () => {
    expect(build(null).queue).toBe(DEFAULT_QUEUE);
    expect(build(undefined).queue).toBe(DEFAULT_QUEUE);
  });

  it("gives each job a fresh, sortable id", () => {
    const a = build();
    const b = build();
    expect(a.id).not.toBe(b.id);
    expect(a.id < b.id).toBe(true);
  });
});

describe("buildNewJob: priority", () => {
  it.each(Object.entries(PRIORITY_NAMES))("maps %s to %i", (name, value) => {
    expect(build({ priority: name }).priority).toBe(value);
  });

  it("orders high before default before low", () => {
    expect(PRIORITY_NAMES.high).toBeLessThan(PRIORITY_NAMES.default);
    expect(PRIORITY_NAMES.default).toBeLessThan(PRIORITY_NAMES.low);
  });

  it.each([0, -5, 7, 1_000_000, -1_000_000])("takes the integer %i", (priority) => {
    expect(build({ priority }).priority).toBe(priority);
  });

  it.each<unknown>([
    "urgent",
    "HIGH",
    "",
    "toString",
    "constructor",
    "__proto__",
    "hasOwnProperty",
    1.5,
    1_000_001,
    -1_000_001,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    null,
    true,
  ])("rejects %s", (priority) => {
    expectError(() => build({ priority }), "INVALID_ARGUMENT", "priority");
    expectError(() => parsePriority(priority), "INVALID_ARGUMENT", "priority");
  });

  it("validates a task's default priority too", () => {
    expect(build(undefined, { priority: "low" }).priority).toBe(10);
    expectError(() => build(undefined, { priority: "urgent" as never }), "INVALID_ARGUMENT", "priority");
  });
});

describe("buildNewJob: attempts", () => {
  it.each([1, 5, 1_000])("takes maxAttempts %i", (maxAttempts) => {
    expect(build({ maxAttempts }).maxAttempts).toBe(maxAttempts);
  });

  it.each<unknown>([0, -1, 1.5, 1_001, "3", null, Number.NaN])("rejects maxAttempts %s", (maxAttempts) => {
    expectError(() => build({ maxAttempts }), "INVALID_ARGUMENT", "maxAttempts");
  });
});

describe("buildNewJob: backoff", () => {
  it("defaults to exponential", () => {
    expect(build().backoff).toEqual(DEFAULT_BACKOFF);
  });

  it("parses exponential with durations", () => {
    expect(build({ backoff: { type: "exponential", base: "2s", cap: "10m", jitter: 0 } }).backoff).toEqual({
      type: "exponential",
      baseMs: 2_000,
      capMs: 600_000,
      jitter: 0,
    });
  });

  it("fills exponential gaps from the defaults", () => {
    expect(build({ backoff: { type: "exponential", base: 5_000 } }).backoff).toEqual({
      ...DEFAULT_BACKOFF,
      baseMs: 5_000,
    });
  });

  it("parses fixed, without jitter unless asked", () => {
    expect(build({ backoff: { type: "fixed", delay: "30s" } }).backoff).toEqual({
      type: "fixed",
      delayMs: 30_000,
      jitter: 0,
    });
    expect(build({ backoff: { type: "fixed", delay: 10, jitter: 0.5 } }).backoff).toEqual({
      type: "fixed",
      delayMs: 10,
      jitter: 0.5,
    });
  });

  it("parses a retry schedule, as a list or as an object, without jitter unless asked", () => {
    const schedule = { type: "schedule", delaysMs: [60_000, 300_000, 900_000], jitter: 0 };
    expect(build({ backoff: ["1m", "5m", "15m"] }).backoff).toEqual(schedule);
    expect(build({ backoff: { type: "schedule", delays: ["1m", 300_000, "15m"] } }).backoff).toEqual(schedule);
    expect(build({ backoff: { type: "schedule", delays: ["1s"], jitter: 0.1 } }).backoff).toEqual({
      type: "schedule",
      delaysMs: [1_000],
      jitter: 0.1,
    });
    expect(build({ backoff: Array(MAX_SCHEDULE_DELAYS).fill("1s") }).backoff).toMatchObject({ type: "schedule" });
  });

  it.each<[string, unknown, string]>([
    ["an empty list", [], "backoff"],
    ["a list too long", Array(MAX_SCHEDULE_DELAYS + 1).fill("1s"), "backoff"],
    ["a malformed step", ["1m", "soon"], "backoff[1]"],
    ["a negative step", [-1], "backoff[0]"],
    ["a schedule without delays", { type: "schedule" }, "backoff.delays"],
    ["a schedule whose delays are not a list", { type: "schedule", delays: "1m,5m" }, "backoff.delays"],
    ["a schedule with a malformed step", { type: "schedule", delays: ["1m", null] }, "backoff.delays[1]"],
    ["a schedule with jitter above 1", { type: "schedule", delays: ["1m"], jitter: 2 }, "backoff.jitter"],
  ])("rejects a retry schedule with %s, naming the field", (_label, backoff, field) => {
    expectError(() => build({ backoff }), "INVALID_ARGUMENT", field);
    expectError(() => parseBackoff(backoff as never), "INVALID_ARGUMENT", field);
  });

  it.each<[string, unknown, string]>([
    ["null", null, "backoff"],
    ["a string", "exponential", "backoff"],
    ["an unknown type", { type: "linear" }, "backoff.type"],
    ["no type", {}, "backoff.type"],
    ["cap below base", { type: "exponential", base: "10s", cap: "1s" }, "backoff"],
    ["a negative base", { type: "exponential", base: -1 }, "backoff.base"],
    ["a malformed cap", { type: "exponential", cap: "forever" }, "backoff.cap"],
    ["jitter above 1", { type: "exponential", jitter: 1.5 }, "backoff.jitter"],
    ["negative jitter", { type: "fixed", delay: 1, jitter: -0.1 }, "backoff.jitter"],
    ["NaN jitter", { type: "exponential", jitter: Number.NaN }, "backoff.jitter"],
    ["string jitter", { type: "exponential", jitter: "0.1" }, "backoff.jitter"],
    ["fixed without a delay", { type: "fixed" }, "backoff.delay"],
    ["fixed with a negative delay", { type: "fixed", delay: -5 }, "backoff.delay"],
  ])("rejects %s", (_label, backoff, field) => {
    expectError(() => build({ backoff }), "INVALID_ARGUMENT", field);
    expectError(() => parseBackoff(backoff as never), "INVALID_ARGUMENT", field);
  });

  it("accepts jitter at both ends", () => {
    expect(build({ backoff: { type: "exponential", jitter: 0 } }).backoff).toMatchObject({ jitter: 0 });
    expect(build({ backoff: { type: "exponential", jitter: 1 } }).backoff).toMatchObject({ jitter: 1 });
  });
});

describe("buildNewJob: idempotency", () => {
  it("has no key and the default TTL unless told", () => {
    const job = build();
    expect(job.idempotencyKey).toBeNull();
    expect(job.idempotencyTtlMs).toBe(DEFAULT_IDEMPOTENCY_TTL_MS);
  });

  it("takes a key and a TTL", () => {
    const job = build({ idempotencyKey: "order:1", idempotencyTtl: "1h" });
    expect(job.idempotencyKey).toBe("order:1");
    expect(job.idempotencyTtlMs).toBe(3_600_000);
  });

  it.each<unknown>(["", "x".repeat(513), 42, {}])("rejects the key %s", (idempotencyKey) => {
    expectError(() => build({ idempotencyKey }), "INVALID_ARGUMENT", "idempotencyKey");
  });

  it("accepts a 512-character key", () => {
    expect(build({ idempotencyKey: "k".repeat(512) }).idempotencyKey).toHaveLength(512);
  });

  it.each<unknown>([-1, "eventually"])("rejects the TTL %s", (idempotencyTtl) => {
    expectError(() => build({ idempotencyTtl }), "INVALID_ARGUMENT", "idempotencyTtl");
  });
});

describe("buildNewJob: concurrency", () => {
  it("has none by default", () => {
    expect(build().concurrency).toBeNull();
  });

  it("refuses a concurrencyKey without a limit", () => {
    const err = expectError(() => build({ concurrencyKey: "business:42" }), "INVALID_ARGUMENT", "concurrencyKey");
    expect(err.message).toMatch(/limit/);
  });

  it("takes the limit for a concurrencyKey from the task", () => {
    expect(build({ concurrencyKey: "business:42" }, { concurrency: { limit: 2 } }).concurrency).toEqual({
      key: "business:42",
      limit: 2,
      onLimit: "wait",
    });
    expect(
      build({ concurrencyKey: "business:42" }, { concurrency: { limit: 1, onLimit: "reject" } }).concurrency,
    ).toEqual({ key: "business:42", limit: 1, onLimit: "reject" });
  });

  it("applies the task's limit only to jobs with a key", () => {
    expect(build(undefined, { concurrency: { limit: 2 } }).concurrency).toBeNull();
  });

  it("takes an explicit rule", () => {
    expect(build({ concurrency: { key: "k", limit: 3, onLimit: "reject" } }).concurrency).toEqual({
      key: "k",
      limit: 3,
      onLimit: "reject",
    });
    expect(build({ concurrency: { key: "k", limit: 3 } }).concurrency).toMatchObject({ onLimit: "wait" });
  });

  it.each<[string, unknown, string]>([
    ["null", null, "concurrency"],
    ["a number", 3, "concurrency"],
    ["no key", { limit: 1 }, "concurrency.key"],
    ["an empty key", { key: "", limit: 1 }, "concurrency.key"],
    ["a zero limit", { key: "k", limit: 0 }, "concurrency.limit"],
    ["a fractional limit", { key: "k", limit: 1.5 }, "concurrency.limit"],
    ["no limit", { key: "k" }, "concurrency.limit"],
    ["an unknown onLimit", { key: "k", limit: 1, onLimit: "drop" }, "concurrency.onLimit"],
  ])("rejects a rule with %s", (_label, concurrency, field) => {
    expectError(() => build({ concurrency }), "INVALID_ARGUMENT", field);
  });

  it("validates the task's limit", () => {
    expectError(
      () => build({ concurrencyKey: "k" }, { concurrency: { limit: 0 } }),
      "INVALID_ARGUMENT",
      "task concurrency.limit",
    );
    expectError(
      () => build({ concurrencyKey: "k" }, { concurrency: { limit: 1, onLimit: "drop" as never } }),
      "INVALID_ARGUMENT",
      "task concurrency.onLimit",
    );
  });

  it("rejects an empty concurrencyKey", () => {
    expectError(
      () => build({ concurrencyKey: "" }, { concurrency: { limit: 1 } }),
      "INVALID_ARGUMENT",
      "concurrencyKey",
    );
  });
});

describe("buildNewJob: rate limit", () => {
  it("has none by default", () => {
    expect(build().rateLimit).toBeNull();
  });

  it("defaults the key to the task", () => {
    expect(build({ rateLimit: { limit: 10, period: "1m" } }).rateLimit).toEqual({
      key: "task:send-sms",
      limit: 10,
      periodMs: 60_000,
    });
  });

  it("takes an explicit key", () => {
    expect(build({ rateLimit: { key: "twilio", limit: 1, period: 1_000 } }).rateLimit).toEqual({
      key: "twilio",
      limit: 1,
      periodMs: 1_000,
    });
  });

  it("takes the task's rule, and lets the job override it", () => {
    const defaults: TaskDefaults = { rateLimit: { limit: 5, period: "1s" } };
    expect(build(undefined, defaults).rateLimit).toEqual({ key: "task:send-sms", limit: 5, periodMs: 1_000 });
    expect(build({ rateLimit: { limit: 1, period: "1h" } }, defaults).rateLimit).toEqual({
      key: "task:send-sms",
      limit: 1,
      periodMs: 3_600_000,
    });
  });

  it.each<[string, unknown, string]>([
    ["a number", 5, "rateLimit"],
    ["a zero period", { limit: 1, period: 0 }, "rateLimit.period"],
    ["a negative period", { limit: 1, period: -1 }, "rateLimit.period"],
    ["no period", { limit: 1 }, "rateLimit.period"],
    ["a malformed period", { limit: 1, period: "often" }, "rateLimit.period"],
    ["a zero limit", { limit: 0, period: "1s" }, "rateLimit.limit"],
    ["a fractional limit", { limit: 0.5, period: "1s" }, "rateLimit.limit"],
    ["an empty key", { key: "", limit: 1, period: "1s" }, "rateLimit.key"],
  ])("rejects %s", (_label, rateLimit, field) => {
    expectError(() => build({ rateLimit }), "INVALID_ARGUMENT", field);
  });
});

describe("buildNewJob: queues and defaults", () => {
  it("uses the default queue, attempts and TTL when nothing is given", () => {
    const job = build();
    expect(job).toMatchObject({
      task: "send-sms",
      queue: DEFAULT_QUEUE,
      payloadJson: "{}",
      priority: 0,
      runAtMs: null,
      delayMs: 0,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoff: DEFAULT_BACKOFF,
      idempotencyKey: null,
      idempotencyTtlMs: DEFAULT_IDEMPOTENCY_TTL_MS,
      concurrency: null,
      rateLimit: null,
    });
  });

  it("takes the task's defaults", () => {
    const defaults: TaskDefaults = {
      queue: "sms",
      priority: "high",
      maxAttempts: 9,
      backoff: { type: "fixed", delay: "1s" },
      idempotencyTtl: "1m",
    };
    expect(build(undefined, defaults)).toMatchObject({
      queue: "sms",
      priority: -10,
      maxAttempts: 9,
      backoff: { type: "fixed", delayMs: 1_000, jitter: 0 },
      idempotencyTtlMs: 60_000,
    });
  });

  it("lets each option override the task's default", () => {
    const defaults: TaskDefaults = {
      queue: "sms",
      priority: "high",
      maxAttempts: 9,
      backoff: { type: "fixed", delay: "1s" },
      idempotencyTtl: "1m",
    };
    expect(
      build(
        {
          queue: "bulk",
          priority: "low",
          maxAttempts: 2,
          backoff: { type: "exponential", base: 10, cap: 20, jitter: 0 },
          idempotencyTtl: 5,
        },
        defaults,
      ),
    ).toMatchObject({
      queue: "bulk",
      priority: 10,
      maxAttempts: 2,
      backoff: { type: "exponential", baseMs: 10, capMs: 20, jitter: 0 },
      idempotencyTtlMs: 5,
    });
  });

  it("validates the task's defaults", () => {
    expectError(() => build(undefined, { maxAttempts: 0 }), "INVALID_ARGUMENT", "maxAttempts");
    expectError(() => build(undefined, { queue: "bad queue" }), "INVALID_ARGUMENT", "queue");
    expectError(() => build(undefined, { idempotencyTtl: "x" }), "INVALID_ARGUMENT", "idempotencyTtl");
  });

  it.each<unknown>(["", "a b", "-q", 7, {}])("rejects the queue %s with INVALID_ARGUMENT", (queue) => {
    expectError(() => build({ queue }), "INVALID_ARGUMENT", "queue");
  });
});

describe("validateName", () => {
  it("uses INVALID_TASK_NAME only for tasks", () => {
    expectError(() => validateName("", "task"), "INVALID_TASK_NAME", "task");
    expectError(() => validateName("", "queue"), "INVALID_ARGUMENT", "queue");
  });
});

describe("describe", () => {
  it.each<[unknown, string]>([
    [undefined, "nothing"],
    ["x", '"x"'],
    [1, "1"],
    [true, "true"],
    [null, "null"],
    [{}, "object"],
    [() => 1, "function"],
  ])("describes %s as %s", (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it("shortens long strings", () => {
    const text = describeValue("y".repeat(100));
    expect(text).toBe(`"${"y".repeat(57)}..."`);
  });
});

describe("buildNewJob: who enqueued it", () => {
  it("is nobody unless told, else the name given", () => {
    expect(build().enqueuedBy).toBeNull();
    expect(build({ enqueuedBy: "ci-bot" }).enqueuedBy).toBe("ci-bot");
  });

  it.each<unknown>(["", "x".repeat(513), 42, {}])("rejects %s", (enqueuedBy) => {
    expectError(() => build({ enqueuedBy }), "INVALID_ARGUMENT", "enqueuedBy");
  });
});
