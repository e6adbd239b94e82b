// The HTTP routes over real HTTP on loopback, on the test backend: bad input gets a 400 naming
// each problem (never a stack), a wrong code is refused and too many lock the request, a phone
// gets at most its day's codes and an address its hour's requests, a request shows a failure's
// code and not the provider's message, and the whole flow (ask, confirm, ring, take) runs
// in-process, through Twilio's API and Gather (a fake Twilio on loopback), and as the README
// runs app.mjs.
import { spawn } from "node:child_process";
import { describe, expect, it, onTestFinished } from "vitest";
import { watchProcess } from "../../src/test-support/cli.js";
import { testDatabase } from "../../src/test-support/test-backend.js";
import { startFakeTwilio } from "./fake-twilio.js";
import {
  codeSentTo,
  eventually,
  FAST,
  jobWhen,
  MINUTE,
  type Started,
  startService,
  TestClock,
  testConfig,
} from "./harness.js";
import { createCallbackService } from "./service.mjs";
import { TwilioTelephony } from "./twilio-telephony.mjs";

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
}

/** The service on the Twilio provider, against a fake Twilio, listening on a free loopback port, with a worker. */
async function onTwilio(config = testConfig()) {
  const twilio = await startFakeTwilio();
  const clock = new TestClock(Date.parse("2030-01-07T09:00:00.000Z"));
  const service = await createCallbackService({
    database: (await testDatabase("callback-twilio-")).database,
    config,
    telephony: new TwilioTelephony({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: "+12025550199",
      baseUrl: twilio.url,
    }),
    clock: clock.read,
  });
  onTestFinished(() => service.close());
  const url = await service.listen({ port: 0 });
  await service.startWorker(FAST);
  /** A visitor asks and confirms with the code Twilio was asked to text: the confirmation's body. */
  const confirmed = async (business: string, phone: string) => {
    const asked = await call("POST", `${url}/callbacks`, { business, phone, name: "Ada" });
    expect(asked.status).toBe(201);
    const sms = await eventually(`the code's SMS to ${phone} at Twilio`, () =>
      twilio.requests.find((r) => r.resource === "Messages" && r.form.To === phone),
    );
    const code = /^(\d{6}) is your code/.exec(sms.form.Body ?? "")?.[1];
    const verified = await call("POST", `${url}${asked.body.verify}`, { code });
    expect(verified.status).toBe(200);
    return verified.body as { id: string; job: string };
  };
  return { twilio, service, url, confirmed };
}

/** The service listening on a free loopback port, with a worker. */
async function listening(options: Parameters<typeof startService>[1] = {}): Promise<Started & { url: string }> {
  const started = await startService((await testDatabase("callback-routes-")).database, {
    publicUrl: null,
    ...options,
  });
  const url = await started.service.listen({ port: 0 });
  await started.service.startWorker(FAST);
  return { ...started, url };
}

describe("the callback routes", () => {
  it("refuses bad input with a 400 naming each problem, never a stack, and stores nothing", async () => {
    const { service, url } = await listening();
    const cases: Array<[unknown, Record<string, string>, number, string, string]> = [
      ["{not json", {}, 400, "INVALID_JSON", "the body must be a JSON object"],
      ["", {}, 400, "INVALID_JSON", "the body must be a JSON object"],
      [[1, 2], {}, 400, "INVALID_REQUEST", "send a JSON object with business, phone and an optional name"],
      [
        {},
        {},
        400,
        "INVALID_REQUEST",
        "business: required: the id of the business that calls you back; " +
          "phone: required: the number to call back, in E.164 form such as +12025550123",
      ],
      [
        { business: "acme-plumbing", phone: "555-0123", name: "x".repeat(81), admin: true },
        {},
        400,
        "INVALID_REQUEST",
        "phone: must be a phone number in E.164 form, such as +12025550123; name: must be at most 80 characters; " +
          'unknown field "admin"',
      ],
      [{ business: "nope", phone: "+12025550123" }, {}, 400, "INVALID_REQUEST", 'business: no business "nope"'],
      [
        "business=acme-plumbing&phone=%2B12025550123",
        { "content-type": "application/x-www-form-urlencoded" },
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "",
      ],
      [JSON.stringify({ business: "x".repeat(20_000) }), {}, 413, "BODY_TOO_LARGE", ""],
    ];
    for (const [body, headers, status, code, message] of cases) {
      const res = await call("POST", `${url}/callbacks`, body, headers);
      expect([res.status, res.body.error.code], res.text).toEqual([status, code]);
      if (message) expect(res.body.error.message).toBe(message);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(res.text).not.toMatch(/stack|\n\s+at |\.mjs|node_modules/);
    }
    const id = "01KZZZZZZZZZZZZZZZZZZZZZZZ";
    expect((await call("POST", `${url}/callbacks/${id}/verify`, { code: "12" })).body.error).toEqual({
      code: "INVALID_REQUEST",
      message: "code: must be the 6 digits texted to you",
    });
    expect((await call("POST", `${url}/callbacks/${id}/verify`, { code: "123456" })).status).toBe(404);
    expect((await call("GET", `${url}/callbacks/not-an-id`)).status).toBe(404);
    expect((await call("DELETE", `${url}/callbacks`)).body.error).toEqual({
      code: "NOT_FOUND",
      message: "no route DELETE /callbacks",
    });
    expect(await service.overseer.listJobs()).toEqual([]);
  });

  it("refuses a wrong code, locks the request after five, and calls only once however often it is confirmed", async () => {
    const { service, telephony, clock, url } = await listening();
    const asked = await call("POST", `${url}/callbacks`, { business: "acme-plumbing", phone: "+12025555001" });
    expect(asked.status).toBe(201);
    const code = await codeSentTo(telephony, "+12025555001");
    const wrong = code === "000000" ? "111111" : "000000";
    const verify = (id: string, c: string) => call("POST", `${url}/callbacks/${id}/verify`, { code: c });
    for (const left of [4, 3, 2, 1, 0]) {
      const res = await verify(asked.body.id, wrong);
      expect([res.status, res.body.error.code]).toEqual([400, "WRONG_CODE"]);
      expect(res.body.error.message).toBe(`that is not the code; ${left} ${left === 1 ? "try" : "tries"} left`);
    }
    // Locked: the right code is no use now either.
    expect((await verify(asked.body.id, code)).body.error.code).toBe("TOO_MANY_TRIES");
    expect((await call("GET", `${url}/callbacks/${asked.body.id}`)).body.status).toBe("unverified");

    // Another request: its right code, twice at once, makes one call job.
    const other = await call("POST", `${url}/callbacks`, { business: "acme-plumbing", phone: "+12025555002" });
    const otherCode = await codeSentTo(telephony, "+12025555002");
    const both = await Promise.all([verify(other.body.id, otherCode), verify(other.body.id, otherCode)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(both.find((r) => r.status === 409)?.body.error.code).toBe("ALREADY_VERIFIED");
    expect(await service.overseer.listJobs({ task: "call" })).toHaveLength(1);

    // A code is good for 15 minutes.
    const late = await call("POST", `${url}/callbacks`, { business: "acme-plumbing", phone: "+12025555003" });
    const lateCode = await codeSentTo(telephony, "+12025555003");
    clock.now += 15 * MINUTE + 1;
    expect((await verify(late.body.id, lateCode)).body.error.code).toBe("CODE_EXPIRED");
  });

  it("gives a phone at most its day's codes, then 429 with Retry-After until the next UTC day", async () => {
    const { url } = await listening({ at: Date.parse("2030-01-07T23:00:00.000Z") });
    const ask = () => call("POST", `${url}/callbacks`, { business: "corner-bakery", phone: "+12025555101" });
    for (let i = 0; i < 5; i++) expect((await ask()).status).toBe(201);
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("3600");
    expect(refused.body.error).toEqual({
      code: "TOO_MANY_REQUESTS",
      message: "+12025555101 has asked for 5 callbacks today; try tomorrow",
    });
  });

  it("runs the whole flow over HTTP: ask, confirm with the texted code, the ring taken", async () => {
    const { service, telephony, url } = await listening({ outcome: "ringing" });
    const asked = await call("POST", `${url}/callbacks`, {
      business: "acme-plumbing",
      phone: "+12025555201",
      name: "Ada",
    });
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({ status: "unverified", verify: `/callbacks/${asked.body.id}/verify` });
    const code = await codeSentTo(telephony, "+12025555201");
    const confirmed = await call("POST", `${url}${asked.body.verify}`, { code });
    expect(confirmed).toMatchObject({ status: 200, body: { id: asked.body.id, status: "queued" } });

    const ring = await eventually("the primary to ring", () => telephony.calls[0]);
    expect(ring).toMatchObject({ to: "+12025550100", context: { label: "primary", visitor: { name: "Ada" } } });
    // The answer URL points at this server, as the provider will reach it.
    expect(ring.context.answerUrl.startsWith(`${url}/callbacks/${asked.body.id}/answered?ring=1.1&key=`)).toBe(true);
    await jobWhen(
      service,
      confirmed.body.job,
      "the call to wait for the ring to be taken",
      (j) => j.state === "scheduled",
    );
    expect((await call("GET", `${url}/callbacks/${asked.body.id}`)).body).toMatchObject({
      status: "ringing",
      ringing: "primary",
    });

    // A client other than Twilio posts JSON (or nothing), and is answered in JSON.
    const pressed2 = await call("POST", ring.context.answerUrl, { Digits: "2" });
    expect([pressed2.status, pressed2.body.error.code]).toEqual([400, "NOT_TAKEN"]);
    const taken = await call("POST", ring.context.answerUrl);
    expect(taken).toMatchObject({ status: 200, body: { id: asked.body.id, ring: "1.1", taken: true } });
    await jobWhen(service, confirmed.body.job, "the call to succeed", (j) => j.state === "succeeded");
    expect((await call("GET", `${url}/callbacks/${asked.body.id}`)).body).toMatchObject({
      status: "answered",
      answeredBy: "primary",
      ringing: null,
    });
    const again = await call("POST", ring.context.answerUrl);
    expect([again.status, again.body.error.code]).toEqual([409, "CALL_OVER"]);
  });

  it("rings through Twilio for the business's answerWithin and answers Twilio's Gather in TwiML", async () => {
    const { twilio, service, url, confirmed } = await onTwilio();
    const { id, job } = await confirmed("acme-plumbing", "+12025555401");
    await jobWhen(service, job, "the primary's ring to wait", (j) => j.state === "scheduled");
    const calls = twilio.requests.filter((r) => r.resource === "Calls");
    expect(calls.map((r) => [r.form.To, r.form.Timeout])).toEqual([["+12025550100", "600"]]); // answerWithin 10m

    // Whoever picks up presses 2, then 1: Twilio posts each to the Gather's action, and says what it gets back.
    const twimlSaying = (text: string) => ({
      status: 200,
      contentType: "text/xml; charset=utf-8",
      text: `<Response><Say>${text}</Say></Response>`,
    });
    expect(await twilio.press(0, "2")).toEqual(
      twimlSaying("You did not press 1, so the callback is not yours. Goodbye."),
    );
    expect(await twilio.press(0, "1")).toEqual(
      twimlSaying("Thank you: the callback is yours. Please call Ada back on 1 2 0 2 5 5 5 5 4 0 1."),
    );
    await jobWhen(service, job, "the call to succeed", (j) => j.state === "succeeded");
    expect((await call("GET", `${url}/callbacks/${id}`)).body).toMatchObject({
      status: "answered",
      answeredBy: "primary",
    });
    // Pressed again once it is over: still TwiML, and a 200, or Twilio would play its own error.
    expect(await twilio.press(0, "1")).toEqual(
      twimlSaying("Sorry, this callback is not waiting for you any more. Goodbye."),
    );
  });

  it("goes SMS-only when Twilio refuses the calls' credentials, instead of letting each call die", async () => {
    const { twilio, service, confirmed } = await onTwilio(testConfig({ smsOnlyMode: { minCalls: 2 } }));
    twilio.reply("Calls", { status: 401, body: { code: 20003, message: "Authenticate", status: 401 } });
    const first = await confirmed("acme-plumbing", "+12025555501");
    const second = await confirmed("acme-plumbing", "+12025555502");
    for (const { job } of [first, second]) {
      const waiting = await jobWhen(service, job, "the call to fail", (j) => j.attempts === 1 && j.state !== "running");
      expect(waiting).toMatchObject({ state: "scheduled", lastError: { code: "TELEPHONY_AUTH" } });
    }
    await eventually("SMS-only mode", async () => {
      return (await service.overseer.listQueues()).find((q) => q.name === "calls")?.breaker?.state === "open";
    });
  });

  it("gives an address at most its hour's requests, then 429 with Retry-After until the next hour", async () => {
    const { clock, url } = await listening({ config: testConfig({ requestsPerIpPerHour: 10 }) });
    // The routes listen on the loopback behind a proxy: they trust its X-Forwarded-For.
    const ask = (from: string, phone: string) =>
      call("POST", `${url}/callbacks`, { business: "acme-plumbing", phone }, { "x-forwarded-for": from });
    for (let i = 0; i < 10; i++) expect((await ask("203.0.113.7", `+120255561${10 + i}`)).status).toBe(201);
    const refused = await ask("203.0.113.7", "+12025556120");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("3600"); // the clock stands at 09:00:00
    expect(refused.body.error).toEqual({
      code: "TOO_MANY_REQUESTS",
      message: "too many callback requests from your address; try again in 60 minutes",
    });
    // Counted before the body is read: a bad body past the limit is refused the same.
    expect((await ask("203.0.113.7", "not a phone")).status).toBe(429);
    expect((await ask("203.0.113.8", "+12025556121")).status).toBe(201); // another address
    clock.now += 60 * MINUTE;
    expect((await ask("203.0.113.7", "+12025556122")).status).toBe(201);
  });

  it("shows a failed request's error code, never the provider's message (it can name a backup number)", async () => {
    const { telephony, url } = await listening();
    telephony.neverAnswers("+12025550100").script("+12025550101", "reject"); // backup 1: refused
    const asked = await call("POST", `${url}/callbacks`, { business: "acme-plumbing", phone: "+12025556201" });
    const code = await codeSentTo(telephony, "+12025556201");
    expect((await call("POST", `${url}${asked.body.verify}`, { code })).status).toBe(200);
    const failed = await eventually("the request to fail", async () => {
      const res = await call("GET", `${url}/callbacks/${asked.body.id}`);
      return res.body.status === "failed" ? res : null;
    });
    expect(failed.body.error).toEqual({ code: "TELEPHONY_REJECTED" });
    expect(failed.text).not.toContain("+12025550101");
  });

  it("runs as the README says: app.mjs with the fake telephony, the code and the answer URL on its terminal", async () => {
    const db = await testDatabase("callback-app-");
    const child = spawn(process.execPath, [new URL("./app.mjs", import.meta.url).pathname], {
      env: { ...process.env, DATABASE: db.database, APP_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const app = watchProcess(child);
    onTestFinished(async () => {
      await app.stop();
    });
    const line = (pattern: RegExp, what: string) =>
      eventually(
        what,
        () => {
          if (child.exitCode !== null) throw new Error(`app.mjs exited: ${app.stderr()}`);
          return pattern.exec(app.stdout());
        },
        { timeoutMs: 20_000 },
      );
    const url = (await line(/callbacks on (http:\S+)/, "the app to listen"))[1] as string;
    const asked = await call("POST", url, { business: "acme-plumbing", phone: "+12025555301", name: "Ada" });
    expect(asked.status).toBe(201);
    const code = (await line(/sms to \+12025555301: (\d{6}) is your code/, "the code on the terminal"))[1] as string;
    expect((await call("POST", `${url}/${asked.body.id}/verify`, { code })).status).toBe(200);
    const answerUrl = (await line(/to take it: curl -s -X POST '([^']+)'/, "the ring's answer URL"))[1] as string;
    expect((await call("POST", answerUrl)).status).toBe(200);
    await eventually("the callback to be answered", async () => {
      return (await call("GET", `${url}/${asked.body.id}`)).body.status === "answered";
    });
    expect(await app.stop()).toBe(0);
    expect(app.stdout()).toContain("stopped");
    expect(app.stderr()).toBe("");
  });
});
