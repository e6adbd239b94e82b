/**
 * What the example's tests share: the service on a test database with a clock they move and the
 * fake telephony, and a visitor's steps through the routes (ask, read the texted code, confirm).
 * Each test file gets its database from src/test-support/test-backend.ts itself, so that
 * `npm test` runs it again on PostgreSQL.
 */
import { onTestFinished } from "vitest";
import { waitFor } from "../../src/test-support/wait.js";
import { parseConfig } from "./config.mjs";
import { FakeTelephony } from "./fake-telephony.mjs";
import { createCallbackService } from "./service.mjs";

/** Worker settings for tests: quick to notice work, a lease the moved clock does not outrun. */
export const FAST = { leaseMs: 60_000, heartbeatMs: 200, maintenanceMs: 100, pollMs: 20, shutdownTimeoutMs: 1_000 };

export const MINUTE = 60_000;

/** Businesses for the tests, as a config file holds them. */
export const TEST_CONFIG = {
  timezone: "Europe/Berlin",
  smsPerPhonePerDay: 5,
  // Every request of the tests comes from one address (the loopback); the limit has its own test.
  requestsPerIpPerHour: 1_000,
  businesses: [
    {
      id: "acme-plumbing",
      name: "Acme Plumbing",
      primary: "+12025550100",
      backups: ["+12025550101", "+12025550102"],
      vip: ["+12025550150"],
      callsPerDay: 50,
      concurrentCalls: 3,
      answerWithin: "10m",
    },
    { id: "corner-bakery", name: "Corner Bakery", primary: "+12025550110", answerWithin: "5m" },
  ],
};

/** TEST_CONFIG parsed; `overrides` replace fields of the whole config. */
export function testConfig(overrides: Record<string, unknown> = {}) {
  return parseConfig({ ...TEST_CONFIG, ...overrides });
}

/** A clock that stands still until a test moves it. */
export class TestClock {
  constructor(public now: number) {}
  readonly read = () => this.now;
}

export interface Started {
  service: Awaited<ReturnType<typeof createCallbackService>>;
  telephony: FakeTelephony;
  clock: TestClock;
}

/** The service on `database`, closed when the test ends (before the database goes). */
export async function startService(
  database: string,
  options: {
    config?: ReturnType<typeof parseConfig>;
    /** Where the clock stands, or "real" for the real one (then `clock.now` means nothing). */
    at?: number | "real";
    /** Each call stays in progress until the test releases it (`telephony.release()`). */
    holdCalls?: boolean;
    outcome?: string;
    /** Where answer URLs point; null: where the routes listen. */
    publicUrl?: string | null;
  } = {},
): Promise<Started> {
  const clock = new TestClock(typeof options.at === "number" ? options.at : Date.parse("2030-01-07T09:00:00.000Z"));
  const telephony = new FakeTelephony({
    ...(options.at === "real" ? {} : { clock: clock.read }),
    ...(options.holdCalls ? { holdCalls: true } : {}),
    ...(options.outcome ? { outcome: options.outcome } : {}),
  });
  const service = await createCallbackService({
    database,
    config: options.config ?? testConfig(),
    telephony,
    ...(options.at === "real" ? {} : { clock: clock.read }),
    ...(options.publicUrl === null ? {} : { publicUrl: options.publicUrl ?? "http://callbacks.test" }),
  });
  onTestFinished(() => service.close());
  return { service, telephony, clock };
}

/** A route called in-process; its status and JSON body. */
export async function route(service: Started["service"], method: "GET" | "POST", url: string, payload?: unknown) {
  const res = await service.app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
  return { status: res.statusCode, headers: res.headers, body: res.json() };
}

/** The code texted to `phone`, once it has been sent (a worker must run the `sms` queue). */
export async function codeSentTo(telephony: FakeTelephony, phone: string): Promise<string> {
  const sms = await waitFor(
    `the code's SMS to ${phone}`,
    () => {
      return telephony.smsTo(phone).find((s) => s.body.includes("your code"));
    },
    { timeoutMs: 15_000 },
  );
  return (/^\d{6}/.exec(sms.body) as RegExpExecArray)[0];
}

/** A visitor asks for a callback and confirms it with the texted code: the request's id and its call job's. */
export async function requestCallback(
  { service, telephony }: Started,
  business: string,
  phone: string,
): Promise<{ id: string; job: string }> {
  const asked = await route(service, "POST", "/callbacks", { business, phone, name: "Ada" });
  if (asked.status !== 201) throw new Error(`POST /callbacks: ${asked.status} ${JSON.stringify(asked.body)}`);
  const code = await codeSentTo(telephony, phone);
  const confirmed = await route(service, "POST", `/callbacks/${asked.body.id}/verify`, { code });
  if (confirmed.status !== 200) throw new Error(`verify: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return { id: asked.body.id, job: confirmed.body.job };
}

/** `waitFor`, with room for a loaded machine running both backends' tests at once. */
export function eventually<T>(what: string, probe: () => T | Promise<T>, options: { timeoutMs?: number } = {}) {
  return waitFor(what, probe, { timeoutMs: 15_000, ...options });
}

/** The job once `test` holds for it. */
export function jobWhen(
  service: Started["service"],
  id: string,
  what: string,
  test: (job: NonNullable<Awaited<ReturnType<Started["service"]["overseer"]["getJob"]>>>) => boolean,
  timeoutMs = 15_000,
) {
  return waitFor(
    what,
    async () => {
      const job = await service.overseer.getJob(id);
      return job && test(job) ? job : null;
    },
    { timeoutMs },
  );
}
