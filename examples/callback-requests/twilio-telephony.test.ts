// The Twilio provider against a fake Twilio on loopback: the requests it makes (path, basic auth,
// form fields, how long a call rings), what it makes of the replies (a refusal is permanent;
// refused credentials, an outage, a throttle, a timeout or an unreachable server retryable), and
// that its auth token shows nowhere.
import { createServer } from "node:net";
import { inspect } from "node:util";
import { PermanentError } from "overseer";
import { describe, expect, it } from "vitest";
import { startFakeTwilio } from "./fake-twilio.js";
import { TelephonyError } from "./telephony.mjs";
import { TwilioTelephony, twiml } from "./twilio-telephony.mjs";

const CONTEXT = {
  callbackId: "01KCALLBACK0000000000000000",
  business: { id: "acme-plumbing", name: "Acme & Sons" },
  label: "primary",
  ring: "1.1",
  visitor: { phone: "+12025550123", name: "Ada <Lovelace>" },
  answerUrl: "http://127.0.0.1:7080/callbacks/01KCALLBACK0000000000000000/answered?ring=1.1&key=k1&x=2",
  answerWithinMs: 10 * 60_000,
};

async function provider(options: { timeoutMs?: number } = {}) {
  const twilio = await startFakeTwilio();
  const telephony = new TwilioTelephony({
    accountSid: twilio.accountSid,
    authToken: twilio.authToken,
    from: "+12025550199",
    baseUrl: `${twilio.url}/`,
    ...options,
  });
  return { twilio, telephony };
}

/** What `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure");
}

describe("the Twilio provider", () => {
  it("sends an SMS as a form to Messages.json, with the account's basic auth", async () => {
    const { twilio, telephony } = await provider();
    await telephony.sendSms("+12025550123", "123456 is your code");
    expect(twilio.requests).toEqual([
      {
        resource: "Messages",
        path: `/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`,
        authorized: true,
        form: { To: "+12025550123", From: "+12025550199", Body: "123456 is your code" },
      },
    ]);
  });

  it("places a call with TwiML whose Gather posts to the ring's answer URL, and reads Twilio's status", async () => {
    const { twilio, telephony } = await provider();
    expect(await telephony.call("+12025550100", CONTEXT)).toBe("ringing"); // "queued"
    const [request] = twilio.requests;
    expect(request).toMatchObject({ resource: "Calls", authorized: true });
    expect(request?.form).toEqual({
      To: "+12025550100",
      From: "+12025550199",
      Twiml: twiml(CONTEXT),
      Timeout: "600", // rings for the business's answerWithin, 10 minutes, not Twilio's default minute
    });
    // Escaped for XML: the URL's `&`, the names' `&` and `<`.
    expect(request?.form.Twiml).toContain(
      'action="http://127.0.0.1:7080/callbacks/01KCALLBACK0000000000000000/answered?ring=1.1&amp;key=k1&amp;x=2"',
    );
    expect(request?.form.Twiml).toContain("Callback request for Acme &amp; Sons: Ada &lt;Lovelace&gt;, at 1 2 0 2");

    for (const [status, outcome] of [
      ["ringing", "ringing"],
      ["busy", "busy"],
      ["no-answer", "no-answer"],
      ["failed", "failed"],
      ["canceled", "failed"],
    ]) {
      twilio.reply("Calls", { status: 201, body: { sid: "CA0002", status } });
      expect(await telephony.call("+12025550100", CONTEXT)).toBe(outcome);
    }
  });

  it("lets a call ring for the business's answerWithin, in whole seconds, at most Twilio's 600", async () => {
    const { twilio, telephony } = await provider();
    for (const answerWithinMs of [5 * 60_000, 1_500, 60 * 60_000]) {
      await telephony.call("+12025550100", { ...CONTEXT, answerWithinMs });
    }
    expect(twilio.requests.map((r) => r.form.Timeout)).toEqual(["300", "2", "600"]);
  });

  it("makes a 4xx a permanent error naming Twilio's code and message", async () => {
    const { twilio, telephony } = await provider();
    twilio.reply("Messages", {
      status: 400,
      body: { code: 21211, message: "The 'To' number +1202 is not a valid phone number.", status: 400 },
    });
    const refused = await failure(telephony.sendSms("+1202", "hello"));
    expect(refused).toBeInstanceOf(PermanentError);
    expect(refused).toMatchObject({ code: "TELEPHONY_REJECTED", retryable: false, status: 400 });
    expect(refused.message).toBe(
      "Twilio refused the SMS to +1202: HTTP 400, error 21211: The 'To' number +1202 is not a valid phone number.",
    );
  });

  it("makes refused credentials (401, 403) a retryable TELEPHONY_AUTH: an operator fixes them, no job should die of it", async () => {
    const { twilio } = await provider();
    const wrong = new TwilioTelephony({
      accountSid: twilio.accountSid,
      authToken: "not-the-token",
      from: "+12025550199",
      baseUrl: twilio.url,
    });
    const unauthorized = await failure(wrong.call("+12025550100", CONTEXT));
    expect(unauthorized).toBeInstanceOf(TelephonyError);
    expect(unauthorized).toMatchObject({ code: "TELEPHONY_AUTH", retryable: true, status: 401 });
    expect(unauthorized.message).toBe(
      "Twilio refused our credentials (HTTP 401, error 20003: Authenticate) for the call to +12025550100: " +
        "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
    );
    expect(twilio.requests.at(-1)?.authorized).toBe(false);

    const { twilio: suspended, telephony } = await provider();
    suspended.reply("Messages", { status: 403, body: { code: 20005, message: "Account not active", status: 403 } });
    expect(await failure(telephony.sendSms("+12025550123", "hi"))).toMatchObject({
      code: "TELEPHONY_AUTH",
      retryable: true,
      status: 403,
    });
  });

  it("makes a 5xx, a 429, a timeout and an unreachable server retryable errors", async () => {
    const { twilio, telephony } = await provider({ timeoutMs: 300 });
    twilio.reply("Calls", { status: 503, body: "<html>down</html>" });
    const down = await failure(telephony.call("+12025550100", CONTEXT));
    expect(down).toBeInstanceOf(TelephonyError);
    expect(down).toMatchObject({ code: "TELEPHONY_UNAVAILABLE", retryable: true, status: 503 });
    expect(down.message).toBe("Twilio failed the call to +12025550100: HTTP 503");

    twilio.reply("Messages", { status: 429, body: { code: 20429, message: "Too Many Requests", status: 429 } });
    expect(await failure(telephony.sendSms("+12025550123", "hi"))).toMatchObject({
      code: "TELEPHONY_THROTTLED",
      retryable: true,
    });

    twilio.reply("Messages", "hang");
    const slow = await failure(telephony.sendSms("+12025550123", "hi"));
    expect(slow).toMatchObject({ code: "TELEPHONY_TIMEOUT", retryable: true });
    expect(slow.message).toBe("Twilio did not answer the SMS to +12025550123 within 300 ms");

    // A port nobody listens on: taken, then freed.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const gone = new TwilioTelephony({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: "+12025550199",
      baseUrl: `http://127.0.0.1:${port}`,
    });
    const unreachable = await failure(gone.sendSms("+12025550123", "hi"));
    expect(unreachable).toMatchObject({ code: "TELEPHONY_UNREACHABLE", retryable: true });
    expect(unreachable.message).toBe("could not reach Twilio for the SMS to +12025550123: ECONNREFUSED");
  });

  it("gives up on a request when the job's signal aborts", async () => {
    const { twilio, telephony } = await provider();
    twilio.reply("Calls", "hang");
    const controller = new AbortController();
    const pending = failure(telephony.call("+12025550100", CONTEXT, controller.signal));
    controller.abort("cancelled");
    expect(await pending).toMatchObject({ code: "TELEPHONY_ABORTED", retryable: true });
  });

  it("shows its auth token nowhere: not in errors, not when inspected or serialised", async () => {
    const { twilio, telephony } = await provider({ timeoutMs: 300 });
    const seen: string[] = [inspect(telephony, { depth: 5, showHidden: true }), JSON.stringify(telephony)];
    for (const [status, body] of [
      [400, { code: 21211, message: "bad number" }],
      [500, {}],
    ] as const) {
      twilio.reply("Messages", { status, body });
      const err = await failure(telephony.sendSms("+12025550123", "hi"));
      seen.push(err.message, inspect(err, { depth: 5 }));
    }
    const basic = Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString("base64");
    for (const text of seen) {
      expect(text).not.toContain(twilio.authToken);
      expect(text).not.toContain(basic);
    }
  });

  it("refuses to be made without its settings, naming the one missing and not the token", () => {
    expect(() => new TwilioTelephony({ accountSid: "AC1", authToken: "", from: "+12025550199" })).toThrow(
      "TwilioTelephony needs authToken",
    );
  });
});
