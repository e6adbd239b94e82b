import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeTwilio, sayings, startFakeTwilio } from "../../../test-support/fake-twilio.js";
import { ChannelDeliveryError } from "../channel.js";
import { MAX_SPOKEN_LENGTH } from "./phone-provider.js";
import { escapeXml, TwilioProvider, twiml } from "./twilio-provider.js";

let fake: FakeTwilio | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const FROM = "+14155550100";
const TO = "+4915112345678";

async function started(): Promise<{ fake: FakeTwilio; provider: TwilioProvider }> {
  fake = await startFakeTwilio();
  const provider = new TwilioProvider({
    accountSid: fake.accountSid,
    authToken: fake.authToken,
    url: fake.url,
    timeoutMs: 2_000,
  });
  return { fake, provider };
}

/** The error a failed send rejects with. */
async function failureOf(send: Promise<unknown>): Promise<ChannelDeliveryError> {
  const err = await send.then(
    () => {
      throw new Error("expected the send to fail");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelDeliveryError);
  return err as ChannelDeliveryError;
}

describe("TwilioProvider against a fake Twilio over HTTP", () => {
  it("texts: a form-encoded POST to Messages.json with basic auth, resolving with the message's sid", async () => {
    const { fake, provider } = await started();
    const sid = await provider.sendSms(TO, FROM, "[Overseer] Disk full on db-1 & more\nhttp://x.test/alerts/1");
    expect(fake.messages).toEqual([
      { sid, to: TO, from: FROM, body: "[Overseer] Disk full on db-1 & more\nhttp://x.test/alerts/1" },
    ]);
    expect(sid).toMatch(/^SM[0-9a-f]{32}$/);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      method: "POST",
      path: `/2010-04-01/Accounts/${fake.accountSid}/Messages.json`,
      contentType: "application/x-www-form-urlencoded",
      status: 201,
    });
    expect(request?.authorization).toBe(
      `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString("base64")}`,
    );
  });

  it("calls: TwiML that says the text twice, escaped, resolving with the call's sid", async () => {
    const { fake, provider } = await started();
    const text = `This is Overseer. An alert: "db-1" <primary> & 'replica' down.`;
    const sid = await provider.call(TO, FROM, text);
    expect(sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(fake.calls).toHaveLength(1);
    const [call] = fake.calls;
    expect(call).toMatchObject({ sid, to: TO, from: FROM, said: [text, text] });
    expect(call?.twiml).toBe(
      "<Response><Say>This is Overseer. An alert: &quot;db-1&quot; &lt;primary&gt; &amp; &apos;replica&apos; down.</Say>" +
        '<Pause length="1"/>' +
        "<Say>This is Overseer. An alert: &quot;db-1&quot; &lt;primary&gt; &amp; &apos;replica&apos; down.</Say></Response>",
    );
    expect(fake.requests[0]?.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Calls.json`);
  });

  it("refuses an invalid number for good (400), with Twilio's code and message and no secret", async () => {
    const { fake, provider } = await started();
    const err = await failureOf(provider.sendSms("+1555", FROM, "hello"));
    expect(err).toMatchObject({ retryable: false, code: "TWILIO_21211", status: 400 });
    expect(err.message).toBe(
      `sms via twilio at ${fake.url}: HTTP 400, error 21211, The 'To' number +1555 is not a valid phone number.`,
    );
    expect(err.message).not.toContain(fake.authToken);
    expect(fake.messages).toEqual([]);
  });

  it.each([
    [{ status: 429, code: 20429, message: "Too Many Requests", retryAfter: 3 }, "TWILIO_20429", 3_000],
    [{ status: 500, code: 20500, message: "Internal Server Error" }, "TWILIO_20500", undefined],
    [{ status: 503, message: "Service Unavailable" }, "HTTP_503", undefined],
  ])("a %j may pass later: retryable", async (failure, code, retryAfterMs) => {
    const { fake, provider } = await started();
    fake.failNext(failure);
    const err = await failureOf(provider.call(TO, FROM, "An alert."));
    expect(err).toMatchObject({ retryable: true, code, status: failure.status, retryAfterMs });
    expect(err.message).toContain(`call via twilio at ${fake.url}: HTTP ${failure.status}`);
    expect(err.message).toContain(failure.message);
    // The next attempt goes through.
    await provider.call(TO, FROM, "An alert.");
    expect(fake.calls).toHaveLength(1);
  });

  it("other 4xx fail for good: a wrong auth token (401), which no error repeats", async () => {
    const { fake } = await started();
    const wrong = new TwilioProvider({ accountSid: fake.accountSid, authToken: "wrong-token-7f3e", url: fake.url });
    const err = await failureOf(wrong.sendSms(TO, FROM, "hello"));
    expect(err).toMatchObject({ retryable: false, code: "TWILIO_20003", status: 401 });
    expect(err.message).toBe(`sms via twilio at ${fake.url}: HTTP 401, error 20003, Authenticate`);
    expect(fake.requests[0]?.status).toBe(401);
  });

  it("cuts the auth token out of whatever the provider answers", async () => {
    const { fake, provider } = await started();
    fake.failNext({
      status: 400,
      code: 20001,
      message: `Invalid credentials ${fake.authToken} for ${fake.accountSid}`,
    });
    const err = await failureOf(provider.sendSms(TO, FROM, "hello"));
    expect(err.message).not.toContain(fake.authToken);
    expect(err.message).toContain("Invalid credentials <auth token> for");
    expect(JSON.stringify(err)).not.toContain(fake.authToken);
  });

  it("a redirect is not followed, and fails for good", async () => {
    const { fake, provider } = await started();
    fake.failNext({ status: 302 });
    const err = await failureOf(provider.sendSms(TO, FROM, "hello"));
    expect(err).toMatchObject({ retryable: false, code: "HTTP_302" });
    expect(err.message).toContain("(redirects are not followed)");
  });

  it("a 2xx without a sid fails for good rather than risk texting twice", async () => {
    const { fake, provider } = await started();
    fake.failNext({ status: 200 });
    const err = await failureOf(provider.sendSms(TO, FROM, "hello"));
    expect(err).toMatchObject({ retryable: false, code: "BAD_RESPONSE", status: 200 });
  });

  it("a request left unanswered times out, retryable", async () => {
    const { fake } = await started();
    const provider = new TwilioProvider({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      url: fake.url,
      timeoutMs: 200,
    });
    fake.hang = true;
    const err = await failureOf(provider.sendSms(TO, FROM, "hello"));
    expect(err).toMatchObject({ retryable: true, code: "TIMEOUT" });
    expect(err.message).toBe(`sms via twilio at ${fake.url}: no response within 200 ms`);
  });

  it("nothing listening: a network error, retryable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const provider = new TwilioProvider({ accountSid: "AC1", authToken: "tok", url: `http://127.0.0.1:${port}` });
    const err = await failureOf(provider.sendSms(TO, FROM, "hello"));
    expect(err).toMatchObject({ retryable: true, code: "NETWORK_ERROR" });
    expect(err.message).toBe(`sms via twilio at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it("keeps a base URL's path prefix", async () => {
    fake = await startFakeTwilio();
    const provider = new TwilioProvider({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      url: `${fake.url}/proxy/`,
    });
    const err = await failureOf(provider.sendSms(TO, FROM, "hello"));
    expect(err).toMatchObject({ code: "TWILIO_20404", retryable: false });
    expect(fake.requests[0]?.path).toBe(`/proxy/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
  });
});

describe("twiml", () => {
  it("escapes XML, drops characters XML forbids, and stays within Twilio's 4,000 characters however it is escaped", () => {
    expect(escapeXml(`a\u0000b\u0007c & <d> "e" 'f'`)).toBe("abc &amp; &lt;d&gt; &quot;e&quot; &apos;f&apos;");
    const worst = twiml('"'.repeat(2_000));
    expect(worst.length).toBeLessThanOrEqual(4_000);
    expect(sayings(worst)).toEqual(['"'.repeat(MAX_SPOKEN_LENGTH - 1) + "…", '"'.repeat(MAX_SPOKEN_LENGTH - 1) + "…"]);
  });
});
