// The callback service's rules, end to end in one process on the test backend (a SQLite file, or
// a PostgreSQL schema in `npm test`'s second pass), with the fake telephony and a clock the tests
// move: requests go through the routes, jobs through a real worker and scheduler. VIPs are
// called first; a business never has more than its 3 calls at once; a number that never answers
// is tried at 0, 1, 6 and 21 minutes and then texted once, and one that rings unanswered for its
// 5 minutes is retried 1, 5 and 15 minutes after each round ended; an answer after its round
// ended is refused; an unanswered ring escalates along the chain; the daily cap defers a call to
// the next day; a code's SMS retried in an outage does not hold back the next code; a provider
// whose calls are down turns the service SMS-only until a probe call gets through, while
// businesses that do not answer never do; the clean-up and the report fire on their crons, in
// the config's time zone, the Monday report covering the weekend.
import { describe, expect, it } from "vitest";
import { testDatabase } from "../../src/test-support/test-backend.js";
import { eventually, FAST, jobWhen, MINUTE, requestCallback, route, startService, testConfig } from "./harness.js";
import { reportDays } from "./tasks.mjs";

const VIP = "+12025550150";
const phones = (n: number, from = 1000) => Array.from({ length: n }, (_, i) => `+1202555${from + i}`);

describe("callback requests", () => {
  it("calls a VIP before the normal requests that were confirmed earlier", async () => {
    const started = await startService((await testDatabase("callback-requests-")).database);
    const { service, telephony } = started;
    // The codes go out; the calls wait until every request is in.
    await service.overseer.pauseQueue("calls");
    await service.startWorker({ ...FAST, concurrency: 1 });
    const normal = phones(3);
    const jobs = [];
    for (const phone of [...normal, VIP]) jobs.push((await requestCallback(started, "acme-plumbing", phone)).job);
    expect(telephony.calls).toEqual([]);

    await service.overseer.resumeQueue("calls");
    await eventually("the four calls", () => telephony.calls.filter((c) => c.outcome === "answered").length === 4, {
      timeoutMs: 15_000,
    });
    expect(telephony.calls.map((c) => c.context.visitor.phone)).toEqual([VIP, ...normal]);
    const priorities = await Promise.all(jobs.map(async (id) => (await service.overseer.getJob(id))?.priority));
    expect(priorities).toEqual([0, 0, 0, -10]);
  });

  it("never has more than 3 of a business's calls in progress, however many are waiting", async () => {
    // Each call stays in progress until released, so "3 at once" is observed, not raced for.
    const started = await startService((await testDatabase("callback-requests-")).database, { holdCalls: true });
    const { service, telephony } = started;
    await service.overseer.pauseQueue("calls");
    await service.startWorker({ ...FAST, concurrency: 10 });
    const ids = [];
    for (const phone of phones(10)) ids.push((await requestCallback(started, "acme-plumbing", phone)).id);

    await service.overseer.resumeQueue("calls");
    // Ten are ready and the worker has ten slots: three start; each one released lets the next in.
    for (let left = 10; left > 0; left--) {
      const inProgress = Math.min(3, left);
      await eventually(`${inProgress} calls in progress (${left} to go)`, () => {
        return telephony.heldCalls("acme-plumbing") >= inProgress;
      });
      expect(telephony.heldCalls("acme-plumbing")).toBe(inProgress);
      expect(telephony.release()).toBe(true);
    }
    await eventually("the ten calls to be answered", async () => {
      const requests = await Promise.all(ids.map((id) => service.requests.get(id)));
      return requests.every((r) => r?.status === "answered");
    });
    expect(telephony.calls).toHaveLength(10);
    expect(telephony.peakConcurrentCalls("acme-plumbing")).toBe(3); // never four
  });

  it("tries a number that never answers at 0, 1, 6 and 21 minutes, then texts the visitor once", async () => {
    const started = await startService((await testDatabase("callback-requests-")).database);
    const { service, telephony, clock } = started;
    const t0 = clock.now;
    telephony.neverAnswers("+12025550110"); // Corner Bakery has no backup numbers
    await service.startWorker(FAST);
    const visitor = "+12025552001";
    const { id, job } = await requestCallback(started, "corner-bakery", visitor);

    for (const [i, delay] of [1 * MINUTE, 5 * MINUTE, 15 * MINUTE].entries()) {
      const waiting = await jobWhen(service, job, `attempt ${i + 1} to fail`, (j) => {
        return j.state === "scheduled" && j.attempts === i + 1;
      });
      expect(Date.parse(waiting.runAt) - clock.now).toBe(delay);
      expect(waiting.lastError).toMatchObject({
        code: "NOT_ANSWERED",
        message: "nobody at Corner Bakery took the call: primary no-answer",
      });
      clock.now = Date.parse(waiting.runAt);
    }
    const dead = await jobWhen(service, job, "the call to die", (j) => j.state === "dead");
    expect(dead.attempts).toBe(4);
    await eventually(
      "the request to end unanswered",
      async () => (await service.requests.get(id))?.status === "unanswered",
    );
    const fallback = await eventually("the fallback's SMS job to succeed", async () => {
      const sms = await service.overseer.listJobs({ task: "sms", states: ["succeeded"] });
      return sms.length === 2 ? sms : null;
    });

    expect(telephony.callsTo("+12025550110").map((c) => (c.at - t0) / MINUTE)).toEqual([0, 1, 6, 21]);
    expect(telephony.smsTo(visitor).map((s) => s.body)).toEqual([
      expect.stringContaining("is your code to confirm the callback from Corner Bakery"),
      "Sorry, nobody at Corner Bakery could call you back just now. You can reach them on +12025550110.",
    ]);
    expect(await service.overseer.listJobs({ task: "sms-fallback" })).toHaveLength(1);
    expect(fallback).toHaveLength(2);
    // The code's SMS has no rate limit (the route caps codes); the fallback's has its own key.
    const limits = fallback.map((j) => [(j.payload as { code?: unknown }).code ? "code" : "fallback", j.rateLimit]);
    expect(Object.fromEntries(limits)).toEqual({
      code: null,
      fallback: { key: `fallback:${visitor}`, limit: 5, periodMs: 86_400_000 },
    });
    const deadEvent = (await service.overseer.readEvents({ jobId: job })).find((e) => e.kind === "job.dead");
    expect(deadEvent?.data).toMatchObject({ attempt: 4, reason: "max_attempts_exceeded" });
    expect(await service.requests.get(id)).toMatchObject({
      status: "unanswered",
      error: { code: "NOT_ANSWERED" },
      finishedAt: clock.now,
    });
  });

  it("retries a ringing number nobody takes 1, 5 and 15 minutes after each round ended: rounds at 0, 6, 16 and 36 minutes", async () => {
    const started = await startService((await testDatabase("callback-requests-")).database, { outcome: "ringing" });
    const { service, telephony, clock } = started;
    const t0 = clock.now;
    await service.startWorker(FAST);
    const visitor = "+12025552011";
    const { id, job } = await requestCallback(started, "corner-bakery", visitor); // one number; answerWithin 5m

    const expected = [0];
    for (const [i, delay] of [1 * MINUTE, 5 * MINUTE, 15 * MINUTE].entries()) {
      const round = i + 1;
      await jobWhen(service, job, `round ${round}'s ring to wait`, (j) => {
        return j.state === "scheduled" && telephony.calls.length === round;
      });
      clock.now += 5 * MINUTE; // nobody took it within answerWithin: the round ends
      const ended = clock.now;
      const retry = await jobWhen(service, job, `round ${round} to fail`, (j) => {
        return j.state === "scheduled" && j.attempts === round;
      });
      // The wait for the answer was no attempt: each retry waits its own delay after its round.
      expect(retry.lastError).toMatchObject({ code: "NOT_ANSWERED" });
      expect(Date.parse(retry.runAt) - ended).toBe(delay);
      clock.now = Date.parse(retry.runAt);
      expected.push((clock.now - t0) / MINUTE);
    }
    await jobWhen(
      service,
      job,
      "round 4's ring to wait",
      (j) => j.state === "scheduled" && telephony.calls.length === 4,
    );
    clock.now += 5 * MINUTE;
    const dead = await jobWhen(service, job, "the call to die", (j) => j.state === "dead");
    expect(dead.attempts).toBe(4);

    expect(expected).toEqual([0, 6, 16, 36]);
    expect(telephony.callsTo("+12025550110").map((c) => (c.at - t0) / MINUTE)).toEqual(expected);
    await eventually("the fallback SMS", () => telephony.smsTo(visitor).length === 2);
    expect(await service.requests.get(id)).toMatchObject({ status: "unanswered", error: { code: "NOT_ANSWERED" } });
  });

  it("refuses an answer that comes after its round ended unanswered (409 CALL_OVER), and takes the next round's", async () => {
    const started = await startService((await testDatabase("callback-requests-")).database, { outcome: "ringing" });
    const { service, telephony, clock } = started;
    await service.startWorker(FAST);
    const { id, job } = await requestCallback(started, "corner-bakery", "+12025552012");
    const answerPath = (i: number) =>
      (telephony.calls[i]?.context.answerUrl ?? "").replace("http://callbacks.test", "");

    await jobWhen(service, job, "the ring to wait", (j) => j.state === "scheduled" && telephony.calls.length === 1);
    clock.now += 5 * MINUTE;
    const retry = await jobWhen(service, job, "the round to fail", (j) => j.state === "scheduled" && j.attempts === 1);
    expect((await route(service, "GET", `/callbacks/${id}`)).body).toMatchObject({ status: "queued", ringing: null });
    const late = await route(service, "POST", answerPath(0));
    expect([late.status, late.body.error?.code]).toEqual([409, "CALL_OVER"]);

    clock.now = Date.parse(retry.runAt);
    await jobWhen(
      service,
      job,
      "round 2's ring to wait",
      (j) => j.state === "scheduled" && telephony.calls.length === 2,
    );
    const taken = await route(service, "POST", answerPath(1));
    expect(taken).toMatchObject({ status: 200, body: { id, ring: "2.1", taken: true } });
    await jobWhen(service, job, "the call to succeed", (j) => j.state === "succeeded");
    expect(await service.requests.get(id)).toMatchObject({ status: "answered", answeredBy: "primary" });
  });

  it("escalates an unanswered ring to backup 1, then backup 2, who takes it", async () => {
    const started = await startService((await testDatabase("callback-requests-")).database, { outcome: "ringing" });
    const { service, telephony, clock } = started;
    const t0 = clock.now;
    await service.startWorker(FAST);
    const visitor = "+12025552002";
    const { id, job } = await requestCallback(started, "acme-plumbing", visitor);

    // Each ring parks the job until the number takes the call or answerWithin (10m) passes.
    for (const rings of [1, 2, 3]) {
      await jobWhen(
        service,
        job,
        `ring ${rings} to wait`,
        (j) => j.state === "scheduled" && telephony.calls.length === rings,
      );
      if (rings < 3) clock.now += 10 * MINUTE;
    }
    expect(telephony.calls.map((c) => [c.to, c.context.label, (c.at - t0) / MINUTE])).toEqual([
      ["+12025550100", "primary", 0],
      ["+12025550101", "backup 1", 10],
      ["+12025550102", "backup 2", 20],
    ]);
    expect((await route(service, "GET", `/callbacks/${id}`)).body).toMatchObject({
      status: "ringing",
      ringing: "backup 2",
    });

    // The primary's answer comes too late: that call is over. Backup 2 takes it.
    const answerPath = (url: string) => url.replace("http://callbacks.test", "");
    const late = await route(service, "POST", answerPath(telephony.calls[0]?.context.answerUrl ?? ""));
    expect([late.status, late.body.error.code]).toEqual([409, "CALL_OVER"]);
    const taken = await route(service, "POST", answerPath(telephony.calls[2]?.context.answerUrl ?? ""));
    expect(taken).toMatchObject({ status: 200, body: { id, ring: "1.3", taken: true } });

    const done = await jobWhen(service, job, "the call to succeed", (j) => j.state === "succeeded");
    expect(done.result).toEqual({ answeredBy: "backup 2" });
    expect(await service.requests.get(id)).toMatchObject({ status: "answered", answeredBy: "backup 2" });
    expect(telephony.smsTo(visitor)).toHaveLength(1); // the code; no fallback
    // A forged key is no answer at all.
    const forged = await route(service, "POST", `/callbacks/${id}/answered?ring=1.3&key=AAAAAAAAAAAAAAAAAAAAAA`);
    expect(forged.status).toBe(404);
  });

  it("defers the call past the business's daily cap to the next day", async () => {
    const config = testConfig();
    const acme = config.businesses.get("acme-plumbing");
    if (acme) acme.callsPerDay = 10;
    const started = await startService((await testDatabase("callback-requests-")).database, {
      config,
      at: Date.parse("2030-01-07T15:00:00.000Z"),
    });
    const { service, telephony, clock } = started;
    await service.overseer.pauseQueue("calls");
    await service.startWorker(FAST);
    const jobs = [];
    for (const phone of phones(11)) jobs.push((await requestCallback(started, "acme-plumbing", phone)).job);
    await service.overseer.resumeQueue("calls");

    const midnight = Date.parse("2030-01-08T00:00:00.000Z");
    const deferred = await eventually("ten calls and one deferred", async () => {
      const all = await Promise.all(jobs.map((id) => service.overseer.getJob(id)));
      const waiting = all.filter((j) => j?.state === "scheduled");
      return all.filter((j) => j?.state === "succeeded").length === 10 && waiting.length === 1 ? waiting[0] : null;
    });
    expect(telephony.calls).toHaveLength(10);
    expect(deferred?.runAt).toBe(new Date(midnight).toISOString());
    const throttled = (await service.overseer.readEvents({ jobId: deferred?.id })).filter(
      (e) => e.kind === "job.throttled",
    );
    expect(throttled.map((e) => e.data)).toEqual([
      { key: "calls:acme-plumbing", limit: 10, periodMs: 86_400_000, runAt: new Date(midnight).toISOString() },
    ]);

    clock.now = midnight;
    await jobWhen(service, deferred?.id ?? "", "the deferred call to run the next day", (j) => j.state === "succeeded");
    expect(telephony.calls.map((c) => c.at)).toEqual([
      ...Array(10).fill(Date.parse("2030-01-07T15:00:00.000Z")),
      midnight,
    ]);
  });

  it("sends a phone's next code at once after its earlier code's SMS was retried during an outage", async () => {
    const config = testConfig({ smsPerPhonePerDay: 2 });
    const started = await startService((await testDatabase("callback-requests-")).database, { config });
    const { service, telephony, clock } = started;
    const phone = "+12025554101";
    const ask = () => route(service, "POST", "/callbacks", { business: "acme-plumbing", phone });
    await service.startWorker(FAST);

    telephony.outage = true;
    expect((await ask()).status).toBe(201);
    const [failed] = await eventually("the code's SMS to fail once", async () => {
      const sms = await service.overseer.listJobs({ task: "sms", states: ["scheduled"] });
      return sms.length === 1 && sms[0]?.attempts === 1 ? sms : null;
    });
    expect(failed?.lastError?.code).toBe("TELEPHONY_UNAVAILABLE");
    telephony.outage = false;
    clock.now = Date.parse(failed?.runAt ?? "");
    await jobWhen(service, failed?.id ?? "", "the retry to send the code", (j) => j.state === "succeeded");

    // Two attempts of the first code's SMS; the second request is the phone's second of the day.
    const second = await ask();
    expect(second.status).toBe(201);
    const [next] = await eventually("the second code's SMS to run or wait", async () => {
      const sms = (await service.overseer.listJobs({ task: "sms" })).filter((j) => j.id !== failed?.id);
      return sms.length === 1 && (sms[0]?.state === "succeeded" || sms[0]?.state === "scheduled") ? sms : null;
    });
    expect(next?.state).toBe("succeeded");
    expect(telephony.smsTo(phone).map((s) => s.at)).toEqual([clock.now, clock.now]);
    const throttled = (await service.overseer.readEvents({ limit: 1_000 })).filter((e) => e.kind === "job.throttled");
    expect(throttled).toEqual([]);
    // The day's cap is the route's, per request: a third gets 429 at once.
    expect((await ask()).status).toBe(429);
  });

  it("stays out of SMS-only mode however many calls nobody answers", async () => {
    const config = testConfig({ smsOnlyMode: { minCalls: 2, cooldown: "2m" } });
    const started = await startService((await testDatabase("callback-requests-")).database, { config });
    const { service, telephony } = started;
    telephony.neverAnswers("+12025550110"); // Corner Bakery
    await service.startWorker(FAST);
    const unanswered = [];
    for (const phone of phones(3, 4200)) unanswered.push(await requestCallback(started, "corner-bakery", phone));
    for (const { job } of unanswered) {
      const ended = await jobWhen(service, job, "the round to end", (j) => {
        return (j.state === "scheduled" && j.attempts === 1) || j.state === "cancelled"; // cancelled: diverted
      });
      expect(ended).toMatchObject({ state: "scheduled", lastError: { code: "NOT_ANSWERED" } });
    }

    // Three unanswered rounds, over minCalls: another business's call is still placed, and taken.
    const next = await requestCallback(started, "acme-plumbing", "+12025554210");
    const placed = await jobWhen(service, next.job, "the next call to end", (j) => {
      return j.state === "succeeded" || j.state === "cancelled"; // cancelled: diverted to an SMS
    });
    expect(placed.state).toBe("succeeded");
    expect(telephony.callsTo("+12025550100")).toHaveLength(1);
    expect((await service.overseer.listQueues()).find((q) => q.name === "calls")?.breaker ?? null).toBeNull();
    const breakerEvents = (await service.overseer.readEvents({ limit: 1_000 })).filter((e) =>
      e.kind.startsWith("queue.breaker"),
    );
    expect(breakerEvents).toEqual([]);
  });

  it("goes SMS-only while the provider's calls are down, and back to calls once a probe call gets through", async () => {
    const config = testConfig({ smsOnlyMode: { minCalls: 2, cooldown: "2m" } });
    const started = await startService((await testDatabase("callback-requests-")).database, { config });
    const { service, telephony, clock } = started;
    const breaker = async () => (await service.overseer.listQueues()).find((q) => q.name === "calls")?.breaker ?? null;
    telephony.callsDown = true;
    await service.startWorker(FAST);
    const [first, second] = [
      await requestCallback(started, "acme-plumbing", "+12025554001"),
      await requestCallback(started, "acme-plumbing", "+12025554002"),
    ];
    for (const { job } of [first, second]) {
      await jobWhen(service, job, "the call to fail", (j) => j.state === "scheduled" && j.attempts === 1);
    }
    const open = await eventually("SMS-only mode", async () =>
      (await breaker())?.state === "open" ? breaker() : null,
    );
    expect(open).toMatchObject({ trip: { attempts: 2, failures: 2, divertTo: "sms-fallback" } });

    // A call confirmed now is never placed: the visitor gets an SMS instead.
    const third = await requestCallback(started, "acme-plumbing", "+12025554003");
    await jobWhen(service, third.job, "the call to be diverted", (j) => j.state === "cancelled");
    await eventually("the third visitor's SMS", () => telephony.smsTo("+12025554003").length === 2);
    expect(telephony.smsTo("+12025554003")[1]?.body).toBe(
      "Sorry, Acme Plumbing cannot call you back just now. You can reach them on +12025550100.",
    );
    expect(await service.requests.get(third.id)).toMatchObject({ status: "failed", error: { code: "CIRCUIT_OPEN" } });

    // The calls are back; after the cool-down the first due call is the probe, and it connects.
    // The other retry due by then still goes out as an SMS.
    telephony.callsDown = false;
    clock.now += 2 * MINUTE;
    await eventually("the probe to close the breaker", async () => (await breaker()) === null);
    expect(await service.requests.get(first.id)).toMatchObject({ status: "answered" });
    expect(await service.requests.get(second.id)).toMatchObject({ status: "failed", error: { code: "CIRCUIT_OPEN" } });
    const fourth = await requestCallback(started, "acme-plumbing", "+12025554004");
    await jobWhen(service, fourth.job, "calls to go through again", (j) => j.state === "succeeded");

    const smsBodies = (phone: string) =>
      telephony.smsTo(phone).map((s) => s.body.replace(/^\d{6} is your code.*/, "code"));
    await eventually("the second visitor's SMS", () => telephony.smsTo("+12025554002").length === 2);
    expect(smsBodies("+12025554001")).toEqual(["code"]);
    expect(smsBodies("+12025554002")).toEqual(["code", expect.stringContaining("cannot call you back")]);
    expect(smsBodies("+12025554004")).toEqual(["code"]);
    const kinds = (await service.overseer.readEvents({ limit: 1_000 }))
      .filter((e) => e.kind.startsWith("queue.breaker"))
      .map((e) => e.kind);
    expect(kinds).toEqual([
      "queue.breaker_opened",
      "queue.breaker_half_open",
      "queue.breaker_probe",
      "queue.breaker_closed",
    ]);
  });

  it("cleans up at 02:00 and reports at 09:00 on weekdays (Berlin time) every day since the last report", async () => {
    const thursday = Date.parse("2030-01-03T17:00:00.000Z"); // 18:00 in Berlin
    const started = await startService((await testDatabase("callback-requests-")).database, { at: thursday });
    const { service, telephony, clock } = started;
    telephony.script("+12025550110", "reject"); // Corner Bakery's number: the provider refuses it
    await service.startWorker(FAST);
    let visitors = 3000;
    /** Callbacks asked for and ended now, each from a phone of its own: acme's taken, the bakery's refused. */
    const callbacks = async (acme: number, bakery: number) => {
      const asked: Array<{ id: string }> = [];
      for (let i = 0; i < acme; i++) {
        asked.push(await requestCallback(started, "acme-plumbing", `+1202555${visitors++}`));
      }
      for (let i = 0; i < bakery; i++) {
        asked.push(await requestCallback(started, "corner-bakery", `+1202555${visitors++}`));
      }
      await eventually("the calls to end", async () => {
        const requests = await Promise.all(asked.map(({ id }) => service.requests.get(id)));
        return requests.every((r) => r?.status === (r?.business === "acme-plumbing" ? "answered" : "failed"));
      });
    };

    await callbacks(1, 0); // Thursday: reported on Friday
    clock.now = Date.parse("2030-01-04T10:00:00.000Z"); // Friday
    await callbacks(1, 0);
    clock.now = Date.parse("2030-01-05T19:00:00.000Z"); // Saturday 20:00 in Berlin
    await callbacks(0, 1);
    const stale = await route(service, "POST", "/callbacks", { business: "acme-plumbing", phone: "+12025553901" });
    clock.now = Date.parse("2030-01-06T09:00:00.000Z"); // Sunday
    await callbacks(1, 1);
    const fresh = await route(service, "POST", "/callbacks", { business: "acme-plumbing", phone: "+12025553902" });

    clock.now = Date.parse("2030-01-06T22:00:00.000Z"); // Sunday 23:00 in Berlin
    await service.startScheduler({ maxSleepMs: 20 });
    const ran = async (task: string) => service.overseer.listJobs({ task, states: ["succeeded"] });
    const nth = (task: string, n: number) =>
      eventually(`${task} #${n}`, async () => {
        const jobs = await ran(task);
        return jobs.length === n ? jobs.sort((a, b) => Date.parse(a.runAt) - Date.parse(b.runAt))[n - 1] : null;
      });

    clock.now = Date.parse("2030-01-07T01:00:00.000Z"); // Monday 02:00 in Berlin
    const cleanup = await nth("cleanup", 1);
    expect(cleanup.runAt).toBe("2030-01-07T01:00:00.000Z");
    expect(cleanup.result).toEqual({ removed: 1, before: "2030-01-06T01:00:00.000Z" });
    expect((await route(service, "GET", `/callbacks/${stale.body.id}`)).status).toBe(404);
    expect((await route(service, "GET", `/callbacks/${fresh.body.id}`)).body.status).toBe("unverified");
    expect(await ran("daily-report")).toEqual([]);

    clock.now = Date.parse("2030-01-07T06:00:00.000Z"); // Monday 07:00 in Berlin, before the report
    await callbacks(1, 0);
    clock.now = Date.parse("2030-01-07T08:00:00.000Z"); // Monday 09:00 in Berlin
    const monday = await nth("daily-report", 1);
    expect(monday.result).toEqual({
      from: "2030-01-04",
      to: "2030-01-06",
      timezone: "Europe/Berlin",
      total: { answered: 2, unanswered: 0, failed: 2 },
      businesses: {
        "acme-plumbing": { answered: 2, unanswered: 0, failed: 0 },
        "corner-bakery": { answered: 0, unanswered: 0, failed: 2 },
      },
    });

    clock.now = Date.parse("2030-01-07T12:00:00.000Z"); // Monday afternoon
    await callbacks(1, 0);
    clock.now = Date.parse("2030-01-08T01:00:00.000Z"); // Tuesday 02:00 in Berlin
    await nth("cleanup", 2);
    clock.now = Date.parse("2030-01-08T08:00:00.000Z"); // Tuesday 09:00 in Berlin
    const tuesday = await nth("daily-report", 2);
    expect(tuesday.result).toEqual({
      from: "2030-01-07",
      to: "2030-01-07",
      timezone: "Europe/Berlin",
      total: { answered: 2, unanswered: 0, failed: 0 },
      businesses: {
        "acme-plumbing": { answered: 2, unanswered: 0, failed: 0 },
        "corner-bakery": { answered: 0, unanswered: 0, failed: 0 },
      },
    });
    const fired = (await service.overseer.readEvents({ limit: 1000 })).filter((e) => e.kind === "schedule.fired");
    expect(fired.map((e) => e.data.schedule)).toEqual([
      "nightly-cleanup",
      "weekday-report",
      "nightly-cleanup",
      "weekday-report",
    ]);
  });
});

describe("the report's days", () => {
  const at = (iso: string) => reportDays(Date.parse(iso), "Europe/Berlin");

  it("are Friday to Sunday on a Monday, yesterday on Tuesday to Friday, and since Friday when run by hand at the weekend", () => {
    expect(at("2030-01-07T08:00:00.000Z")).toEqual(["2030-01-04", "2030-01-05", "2030-01-06"]); // Monday
    expect(at("2030-01-08T08:00:00.000Z")).toEqual(["2030-01-07"]); // Tuesday
    expect(at("2030-01-11T08:00:00.000Z")).toEqual(["2030-01-10"]); // Friday
    expect(at("2030-01-12T08:00:00.000Z")).toEqual(["2030-01-11"]); // Saturday
    expect(at("2030-01-13T08:00:00.000Z")).toEqual(["2030-01-11", "2030-01-12"]); // Sunday
    // The Monday after the clocks went forward (Sunday 31 March 2030), and one in the zone's day
    // that UTC still calls Sunday.
    expect(at("2030-04-01T07:00:00.000Z")).toEqual(["2030-03-29", "2030-03-30", "2030-03-31"]);
    expect(at("2030-01-06T23:30:00.000Z")).toEqual(["2030-01-04", "2030-01-05", "2030-01-06"]);
  });
});
