import { describe, expect, it } from "vitest";
import { PermanentError } from "./errors.js";
import {
  backoffDelay,
  classifyError,
  DEFAULT_BACKOFF,
  DEFAULT_CLASSIFICATION,
  DEFAULT_MAX_ATTEMPTS,
  decideAfterFailure,
  type ErrorClassification,
  parseRetryOptions,
  RETRY_REASONS,
  type RetryDecision,
  type RetryPolicy,
  type RetryReason,
  resolveRetryPolicy,
  shouldRetry,
  toJobError,
} from "./retry-policy.js";
import type { BackoffPolicy, JobError } from "./types.js";

/** The largest double below 1: what `Math.random()` can return at most. */
const ALMOST_ONE = 1 - Number.EPSILON / 2;

const exp = (baseMs: number, capMs: number, jitter = 0): BackoffPolicy => ({
  type: "exponential",
  baseMs,
  capMs,
  jitter,
});
const fixed = (delayMs: number, jitter = 0): BackoffPolicy => ({ type: "fixed", delayMs, jitter });

describe("backoffDelay", () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_600],
    [10, 51_200],
  ])("exponential without jitter: attempt %i waits %i ms", (attempt, expected) => {
    expect(backoffDelay(exp(100, 1_000_000), attempt, 0)).toBe(expected);
  });

  it("treats attempt 0 or below like the first attempt", () => {
    expect(backoffDelay(exp(100, 10_000), 0, 0)).toBe(100);
    expect(backoffDelay(exp(100, 10_000), -3, 0)).toBe(100);
  });

  it.each([5, 6, 20, 60, 1_000, 1e9])("caps exponential growth (attempt %i)", (attempt) => {
    expect(backoffDelay(exp(100, 1_000), attempt, 0)).toBe(1_000);
  });

  it("stays finite and capped for absurd attempt numbers", () => {
    const d = backoffDelay(exp(1_000, 3_600_000), Number.MAX_SAFE_INTEGER, 0);
    expect(d).toBe(3_600_000);
  });

  it.each([
    [1, 60_000],
    [2, 300_000],
    [3, 900_000],
    [4, 900_000],
    [50, 900_000],
    [0, 60_000],
  ])("a retry schedule: after attempt %i it waits %i ms (past the list, its last)", (attempt, expected) => {
    expect(backoffDelay({ type: "schedule", delaysMs: [60_000, 300_000, 900_000], jitter: 0 }, attempt, 0)).toBe(
      expected,
    );
  });

  it("a retry schedule's jitter spreads each step below it", () => {
    const policy = { type: "schedule", delaysMs: [1_000, 10_000], jitter: 0.5 } as const;
    expect(backoffDelay({ ...policy, delaysMs: [...policy.delaysMs] }, 2, ALMOST_ONE)).toBe(5_000);
    expect(backoffDelay({ ...policy, delaysMs: [...policy.delaysMs] }, 2, 0)).toBe(10_000);
  });

  it("grows monotonically until the cap", () => {
    let previous = 0;
    for (let attempt = 1; attempt <= 40; attempt++) {
      const d = backoffDelay(DEFAULT_BACKOFF, attempt, 0);
      expect(d).toBeGreaterThanOrEqual(previous);
      expect(d).toBeLessThanOrEqual(DEFAULT_BACKOFF.capMs);
      previous = d;
    }
    expect(previous).toBe(DEFAULT_BACKOFF.capMs);
  });

  describe("jitter", () => {
    it("with random = 0 gives the full delay", () => {
      expect(backoffDelay(exp(1_000, 60_000, 0.5), 3, 0)).toBe(4_000);
      expect(backoffDelay(fixed(2_000, 0.5), 7, 0)).toBe(2_000);
    });

    it("with random -> 1 approaches delay * (1 - jitter) without going under", () => {
      expect(backoffDelay(exp(1_000, 60_000, 0.5), 3, ALMOST_ONE)).toBe(2_000);
      expect(backoffDelay(fixed(2_000, 0.25), 1, ALMOST_ONE)).toBe(1_500);
    });

    it("never exceeds the cap, whatever random is", () => {
      for (const random of [0, 0.1, 0.5, 0.9, ALMOST_ONE]) {
        const d = backoffDelay(exp(1_000, 5_000, 0.3), 30, random);
        expect(d).toBeLessThanOrEqual(5_000);
        expect(d).toBeGreaterThanOrEqual(3_500);
      }
    });

    it("spreads uniformly between the bounds", () => {
      expect(backoffDelay(exp(1_000, 60_000, 0.2), 1, 0.5)).toBe(900);
      expect(backoffDelay(fixed(10_000, 1), 1, 0.25)).toBe(7_500);
    });

    it("with jitter = 1 may go down to zero but not below", () => {
      expect(backoffDelay(fixed(1_000, 1), 1, ALMOST_ONE)).toBe(0);
    });

    it("with jitter = 0 ignores random", () => {
      expect(backoffDelay(exp(100, 10_000, 0), 2, ALMOST_ONE)).toBe(200);
    });

    it("returns whole milliseconds", () => {
      expect(Number.isInteger(backoffDelay(exp(333, 10_000, 0.37), 3, 0.4242))).toBe(true);
    });
  });

  it.each([1, 2, 10, 100])("fixed waits the same for attempt %i", (attempt) => {
    expect(backoffDelay(fixed(5_000), attempt, 0)).toBe(5_000);
  });
});

describe("decideAfterFailure", () => {
  const retryable: JobError = { code: "E", message: "boom", retryable: true };
  const permanent: JobError = { code: "P", message: "no", retryable: false };

  it("retries with the backoff delay of the attempt that failed", () => {
    expect(
      decideAfterFailure({ attempts: 3, maxAttempts: 5, backoff: exp(100, 10_000), error: retryable, random: 0 }),
    ).toEqual({ kind: "retry", delayMs: 400 });
  });

  it("passes random through to the jitter", () => {
    expect(
      decideAfterFailure({ attempts: 1, maxAttempts: 5, backoff: fixed(1_000, 0.5), error: retryable, random: 0.5 }),
    ).toEqual({ kind: "retry", delayMs: 750 });
  });

  it.each([
    [1, 1],
    [5, 5],
    [6, 5],
  ])("sends the job to dead after attempt %i of %i", (attempts, maxAttempts) => {
    expect(
      decideAfterFailure({ attempts, maxAttempts, backoff: DEFAULT_BACKOFF, error: retryable, random: 0 }),
    ).toEqual({ kind: "dead", reason: "max_attempts_exceeded" });
  });

  it("retries while attempts remain", () => {
    expect(
      decideAfterFailure({ attempts: 4, maxAttempts: 5, backoff: DEFAULT_BACKOFF, error: retryable, random: 0 }).kind,
    ).toBe("retry");
  });

  it("sends a permanent error straight to dead, even with attempts left", () => {
    expect(
      decideAfterFailure({ attempts: 1, maxAttempts: 100, backoff: DEFAULT_BACKOFF, error: permanent, random: 0 }),
    ).toEqual({ kind: "dead", reason: "permanent_error" });
  });

  it("names the permanent error as the reason when attempts are also exhausted", () => {
    expect(
      decideAfterFailure({ attempts: 5, maxAttempts: 5, backoff: DEFAULT_BACKOFF, error: permanent, random: 0 }),
    ).toEqual({ kind: "dead", reason: "permanent_error" });
  });
});

describe("defaults", () => {
  it("are sane", () => {
    expect(DEFAULT_MAX_ATTEMPTS).toBeGreaterThanOrEqual(1);
    expect(DEFAULT_BACKOFF.capMs).toBeGreaterThanOrEqual(DEFAULT_BACKOFF.baseMs);
    expect(DEFAULT_BACKOFF.jitter).toBeGreaterThanOrEqual(0);
    expect(DEFAULT_BACKOFF.jitter).toBeLessThanOrEqual(1);
  });
});

describe("toJobError", () => {
  it("keeps an Error's name, message and stack, retryable", () => {
    const err = new TypeError("bad thing");
    const out = toJobError(err);
    expect(out).toEqual({ code: "TypeError", message: "bad thing", retryable: true, stack: err.stack });
  });

  it("prefers a string code on the error", () => {
    const err = Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
    expect(toJobError(err).code).toBe("ECONNREFUSED");
  });

  it.each([42, "", null])("falls back to the name when code is %s", (code) => {
    const err = Object.assign(new RangeError("x"), { code });
    expect(toJobError(err).code).toBe("RangeError");
  });

  it("uses the error's string form when the message is empty", () => {
    expect(toJobError(new Error("")).message).toBe("Error");
  });

  it("leaves stack out when there is none", () => {
    const err = new Error("no stack");
    err.stack = undefined;
    expect(toJobError(err)).not.toHaveProperty("stack");
  });

  it("marks a PermanentError as not retryable, with its code", () => {
    expect(toJobError(new PermanentError("card refused", { code: "CARD_REFUSED" }))).toMatchObject({
      code: "CARD_REFUSED",
      message: "card refused",
      retryable: false,
    });
    expect(toJobError(new PermanentError("bad input")).code).toBe("PERMANENT_ERROR");
  });

  it("marks any Error with retryable: false as not retryable", () => {
    const err = Object.assign(new Error("nope"), { retryable: false });
    expect(toJobError(err).retryable).toBe(false);
  });

  it.each([true, undefined, 0, "false"])("treats retryable: %s as retryable", (retryable) => {
    const err = Object.assign(new Error("maybe"), { retryable });
    expect(toJobError(err).retryable).toBe(true);
  });

  it("keeps the error's confidence when it is one (0-1), and nothing else of that name", () => {
    expect(toJobError(Object.assign(new Error("unsure"), { confidence: 0.25 })).confidence).toBe(0.25);
    for (const confidence of [1.5, -0.1, "0.2", Number.NaN, null]) {
      expect(toJobError(Object.assign(new Error("x"), { confidence }))).not.toHaveProperty("confidence");
    }
  });

  it("keeps a thrown string as the message", () => {
    expect(toJobError("plain string")).toEqual({ code: "NON_ERROR_THROWN", message: "plain string", retryable: true });
  });

  it("serialises a thrown object", () => {
    expect(toJobError({ reason: "quota", left: 0 })).toEqual({
      code: "NON_ERROR_THROWN",
      message: '{"reason":"quota","left":0}',
      retryable: true,
    });
  });

  it("does not trust retryable: false on something that is not an Error", () => {
    expect(toJobError({ retryable: false }).retryable).toBe(true);
  });

  it.each([
    ["undefined", undefined, "undefined"],
    ["null", null, "null"],
    ["a number", 7, "7"],
    ["a BigInt", 10n, "10"],
    ["a symbol", Symbol("s"), "Symbol(s)"],
  ])("describes %s", (_label, thrown, message) => {
    expect(toJobError(thrown)).toEqual({ code: "NON_ERROR_THROWN", message, retryable: true });
  });

  it("survives a cyclic object", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(toJobError(cyclic)).toEqual({ code: "NON_ERROR_THROWN", message: "[object Object]", retryable: true });
  });

  it("survives a cyclic object that has no string form either", () => {
    const cyclic: Record<string, unknown> = Object.create(null);
    cyclic.self = cyclic;
    expect(toJobError(cyclic)).toEqual({
      code: "NON_ERROR_THROWN",
      message: "unprintable object thrown",
      retryable: true,
    });
  });
});

describe("shouldRetry", () => {
  const policy = (over: Partial<RetryPolicy> = {}, classification: Partial<ErrorClassification> = {}): RetryPolicy => ({
    enabled: true,
    minConfidence: null,
    maxAttempts: 3,
    backoff: fixed(30_000),
    ...over,
    classification: { ...DEFAULT_CLASSIFICATION, ...classification },
  });
  const err = (code: string, retryable = true, type?: string): JobError => ({
    code,
    message: "m",
    retryable,
    ...(type === undefined ? {} : { type }),
  });
  const unsure = (confidence: number): JobError => ({ ...err("E"), confidence });

  // attempt, error, policy, expected decision
  const table: Array<[string, number, JobError, RetryPolicy, RetryDecision]> = [
    [
      "a transient error with attempts left",
      1,
      err("E"),
      policy(),
      { retry: true, reason: "auto_retry", delayMs: 30_000 },
    ],
    ["the attempt before the last", 2, err("E"), policy(), { retry: true, reason: "auto_retry", delayMs: 30_000 }],
    ["the last attempt", 3, err("E"), policy(), { retry: false, reason: "max_attempts_exceeded" }],
    ["beyond the last attempt", 9, err("E"), policy(), { retry: false, reason: "max_attempts_exceeded" }],
    ["maxAttempts 1", 1, err("E"), policy({ maxAttempts: 1 }), { retry: false, reason: "max_attempts_exceeded" }],
    ["retryable: false", 1, err("E", false), policy(), { retry: false, reason: "permanent_error" }],
    ["retryable: false on the last attempt", 3, err("E", false), policy(), { retry: false, reason: "permanent_error" }],
    [
      "retryable: false with retries disabled",
      1,
      err("E", false),
      policy({ enabled: false }),
      { retry: false, reason: "permanent_error" },
    ],
    ["retries disabled", 1, err("E"), policy({ enabled: false }), { retry: false, reason: "retry_disabled" }],
    [
      "retries disabled on the last attempt",
      3,
      err("E"),
      policy({ enabled: false }),
      { retry: false, reason: "retry_disabled" },
    ],
    [
      "a permanent code",
      1,
      err("CARD_DECLINED"),
      policy({}, { permanentCodes: ["CARD_DECLINED"] }),
      { retry: false, reason: "permanent_error" },
    ],
    [
      "a permanent code glob",
      1,
      err("HTTP_404"),
      policy({}, { permanentCodes: ["HTTP_4*"] }),
      { retry: false, reason: "permanent_error" },
    ],
    [
      "a code outside the glob",
      1,
      err("HTTP_503"),
      policy({}, { permanentCodes: ["HTTP_4*"] }),
      { retry: true, reason: "auto_retry", delayMs: 30_000 },
    ],
    [
      "a permanent type",
      1,
      err("E_VALID", true, "ValidationError"),
      policy({}, { permanentTypes: ["ValidationError"] }),
      { retry: false, reason: "permanent_error" },
    ],
    [
      "a permanent type, matched on the code when there is no type",
      1,
      err("ValidationError"),
      policy({}, { permanentTypes: ["ValidationError"] }),
      { retry: false, reason: "permanent_error" },
    ],
    [
      "a transient code under defaultClass permanent",
      1,
      err("ETIMEDOUT"),
      policy({}, { defaultClass: "permanent", transientCodes: ["ETIMEDOUT"] }),
      { retry: true, reason: "auto_retry", delayMs: 30_000 },
    ],
    [
      "an unlisted code under defaultClass permanent",
      1,
      err("EOTHER"),
      policy({}, { defaultClass: "permanent", transientCodes: ["ETIMEDOUT"] }),
      { retry: false, reason: "permanent_error" },
    ],
    [
      "a transient type under defaultClass permanent",
      1,
      err("X", true, "NetworkError"),
      policy({}, { defaultClass: "permanent", transientTypes: ["Network*"] }),
      { retry: true, reason: "auto_retry", delayMs: 30_000 },
    ],
    [
      "a transient code carving out of a permanent type",
      1,
      err("HTTP_503", true, "HttpError"),
      policy({}, { permanentTypes: ["HttpError"], transientCodes: ["HTTP_503"] }),
      { retry: true, reason: "auto_retry", delayMs: 30_000 },
    ],
    [
      "a permanent type without the carve-out",
      1,
      err("HTTP_400", true, "HttpError"),
      policy({}, { permanentTypes: ["HttpError"], transientCodes: ["HTTP_503"] }),
      { retry: false, reason: "permanent_error" },
    ],
    [
      "retryable: false despite a transient code",
      1,
      err("ETIMEDOUT", false),
      policy({}, { transientCodes: ["ETIMEDOUT"] }),
      { retry: false, reason: "permanent_error" },
    ],
    [
      "a transient code with attempts used up",
      3,
      err("ETIMEDOUT"),
      policy({}, { transientCodes: ["ETIMEDOUT"] }),
      { retry: false, reason: "max_attempts_exceeded" },
    ],
    [
      "a transient code with retries disabled",
      1,
      err("ETIMEDOUT"),
      policy({ enabled: false }, { transientCodes: ["ETIMEDOUT"] }),
      { retry: false, reason: "retry_disabled" },
    ],
    [
      "confidence below the floor",
      1,
      unsure(0.4),
      policy({ minConfidence: 0.6 }),
      { retry: false, reason: "low_confidence" },
    ],
    [
      "confidence at the floor",
      1,
      unsure(0.6),
      policy({ minConfidence: 0.6 }),
      { retry: true, reason: "auto_retry", delayMs: 30_000 },
    ],
    [
      "no confidence reported, with a floor",
      1,
      err("E"),
      policy({ minConfidence: 0.6 }),
      { retry: true, reason: "auto_retry", delayMs: 30_000 },
    ],
    [
      "a low confidence without a floor",
      1,
      unsure(0),
      policy(),
      { retry: true, reason: "auto_retry", delayMs: 30_000 },
    ],
    [
      "low confidence on the last attempt",
      3,
      unsure(0.1),
      policy({ minConfidence: 0.5 }),
      { retry: false, reason: "low_confidence" },
    ],
    [
      "low confidence and a permanent error",
      1,
      { ...unsure(0.1), retryable: false },
      policy({ minConfidence: 0.5 }),
      { retry: false, reason: "permanent_error" },
    ],
    [
      "low confidence with retries disabled",
      1,
      unsure(0.1),
      policy({ enabled: false, minConfidence: 0.5 }),
      { retry: false, reason: "retry_disabled" },
    ],
  ];

  it.each(table)("%s", (_, attempt, error, p, expected) => {
    expect(shouldRetry(attempt, error, p)).toEqual(expected);
  });

  it("covers every reason it can return (lease_expired is the stores' own)", () => {
    const seen = new Set<RetryReason>(table.map(([, a, e, p]) => shouldRetry(a, e, p).reason));
    expect([...seen].sort()).toEqual(RETRY_REASONS.filter((r) => r !== "lease_expired").sort());
  });

  it("uses the backoff of the attempt that failed, with random for the jitter", () => {
    const p = policy({ maxAttempts: 10, backoff: exp(100, 10_000, 0.5) });
    expect(shouldRetry(3, err("E"), p)).toEqual({ retry: true, reason: "auto_retry", delayMs: 400 });
    expect(shouldRetry(3, err("E"), p, 0.5)).toEqual({ retry: true, reason: "auto_retry", delayMs: 300 });
  });

  it("decides exactly as decideAfterFailure did with the default classification", () => {
    for (const attempts of [1, 2, 5, 6])
      for (const retryable of [true, false]) {
        const error = err("E", retryable);
        const input = { attempts, maxAttempts: 5, backoff: DEFAULT_BACKOFF, error, random: 0.3 };
        const d = shouldRetry(attempts, error, resolveRetryPolicy(input, undefined), 0.3);
        expect(decideAfterFailure(input)).toEqual(
          d.retry ? { kind: "retry", delayMs: d.delayMs } : { kind: "dead", reason: d.reason },
        );
      }
  });
});

describe("classifyError", () => {
  const c = (over: Partial<ErrorClassification>): ErrorClassification => ({ ...DEFAULT_CLASSIFICATION, ...over });
  it.each([
    [{ code: "E", retryable: false }, c({ transientCodes: ["E"] }), "permanent", "retryable:false"],
    [
      { code: "E", retryable: true },
      c({ permanentCodes: ["E"], transientTypes: ["E"] }),
      "permanent",
      "permanentCodes",
    ],
    [
      { code: "E", retryable: true },
      c({ transientCodes: ["E"], permanentTypes: ["E"] }),
      "transient",
      "transientCodes",
    ],
    [{ code: "E", retryable: true, type: "T" }, c({ permanentTypes: ["T"] }), "permanent", "permanentTypes"],
    [
      { code: "E", retryable: true, type: "T" },
      c({ defaultClass: "permanent", transientTypes: ["T"] }),
      "transient",
      "transientTypes",
    ],
    [{ code: "E", retryable: true, type: "T" }, c({ permanentTypes: ["E"] }), "transient", "defaultClass"],
    [{ code: "E", retryable: true }, c({}), "transient", "defaultClass"],
    [{ code: "E", retryable: true }, c({ defaultClass: "permanent" }), "permanent", "defaultClass"],
  ] as const)("%o under %o is %s by %s", (error, classification, errorClass, rule) => {
    expect(classifyError(error, classification)).toEqual({ errorClass, rule });
  });
});

describe("resolveRetryPolicy", () => {
  it("takes the budget and backoff from the job and the classification from the task", () => {
    const job = { maxAttempts: 7, backoff: fixed(5) };
    expect(resolveRetryPolicy(job, undefined)).toEqual({
      enabled: true,
      minConfidence: null,
      maxAttempts: 7,
      backoff: fixed(5),
      classification: DEFAULT_CLASSIFICATION,
    });
    expect(
      resolveRetryPolicy(job, { enabled: false, minConfidence: 0.3, permanentCodes: ["P"], defaultClass: "permanent" }),
    ).toEqual({
      enabled: false,
      minConfidence: 0.3,
      maxAttempts: 7,
      backoff: fixed(5),
      classification: { ...DEFAULT_CLASSIFICATION, permanentCodes: ["P"], defaultClass: "permanent" },
    });
  });
});

describe("parseRetryOptions", () => {
  it("accepts every field", () => {
    const options = {
      enabled: false,
      minConfidence: 0.5,
      permanentCodes: ["A"],
      transientCodes: ["B*"],
      permanentTypes: ["C"],
      transientTypes: ["D"],
      defaultClass: "permanent",
    };
    expect(parseRetryOptions(options)).toEqual(options);
    expect(parseRetryOptions({})).toEqual({});
  });

  it.each([
    [null, "retry must be an object"],
    [[], "retry must be an object"],
    [{ retries: 3 }, "unknown field retry.retries"],
    [{ enabled: "yes" }, "retry.enabled must be true or false"],
    [{ permanentCodes: "A" }, "retry.permanentCodes must be a list"],
    [{ transientTypes: [""] }, "retry.transientTypes must be a list"],
    [{ permanentCodes: ["A"], transientCodes: ["A"] }, '"A" is in both permanentCodes and transientCodes'],
    [{ permanentTypes: ["T"], transientTypes: ["T"] }, '"T" is in both permanentTypes and transientTypes'],
    [{ defaultClass: "retry" }, "retry.defaultClass must be transient or permanent"],
    [{ minConfidence: 1.5 }, "retry.minConfidence must be a number from 0 to 1"],
    [{ minConfidence: "0.5" }, "retry.minConfidence must be a number from 0 to 1"],
    [{ minConfidence: Number.NaN }, "retry.minConfidence must be a number from 0 to 1"],
  ])("refuses %o: %s", (value, message) => {
    expect(() => parseRetryOptions(value)).toThrow(message);
  });
});

describe("toJobError type", () => {
  it("keeps the class name as type when the error has its own code", () => {
    class CardError extends Error {
      override name = "CardError";
      code = "CARD_DECLINED";
    }
    expect(toJobError(new CardError("no"))).toMatchObject({ code: "CARD_DECLINED", type: "CardError" });
  });

  it("leaves type out when the code already is the name, or the class is plain Error", () => {
    expect(toJobError(new TypeError("x"))).not.toHaveProperty("type");
    expect(toJobError(Object.assign(new Error("x"), { code: "E_X" }))).not.toHaveProperty("type");
  });
});
