import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { ChannelDeliveryError, type Notification } from "./channel.js";
import {
  createWebhookChannel,
  parseRetryAfter,
  SIGNATURE_HEADER,
  sendWebhook,
  signStandardWebhook,
  signWebhook,
  standardSecretProblem,
  verifyWebhook,
} from "./webhook.js";

const SECRET = "whsec_test_0123456789";
const T0 = 1_790_000_000; // unix seconds

interface Received {
  status: number;
  body: string;
  headers: IncomingMessage["headers"];
  reason?: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A real receiver on loopback that verifies each delivery as a user's endpoint would. */
async function receiver(
  options: { now?: () => number; respond?: (req: IncomingMessage, res: ServerResponse) => boolean } = {},
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (options.respond?.(req, res)) return;
      const raw = Buffer.concat(chunks);
      const check = verifyWebhook(SECRET, raw, req.headers[SIGNATURE_HEADER] as string | undefined, {
        now: options.now?.() ?? Date.now(),
      });
      const status = check.ok ? 204 : 401;
      received.push({
        status,
        body: raw.toString("utf8"),
        headers: req.headers,
        ...(check.ok ? {} : { reason: check.reason }),
      });
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

/** Posts a body with a chosen header, as an attacker replaying or tampering would. */
async function postRaw(url: string, body: string, header: string): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", [SIGNATURE_HEADER]: header },
    body,
    signal: AbortSignal.timeout(5_000),
  });
  await res.text();
  return res.status;
}

const ALERT_ID = "01JALERT000000000000000001";
const notification: Notification = {
  kind: "alert",
  id: `${ALERT_ID}-7`,
  alertId: ALERT_ID,
  title: "3 jobs dead in payments",
  details: "last error: card refused",
  links: [{ label: "Alert", url: `http://127.0.0.1:7070/alerts/${ALERT_ID}` }],
  actions: ["ack"],
  at: "2026-11-21T12:00:00.000Z",
  raisedAt: "2026-11-21T11:55:00.000Z",
};

describe("signWebhook / verifyWebhook", () => {
  const body = JSON.stringify({ hello: "world" });
  const header = signWebhook(SECRET, body, T0);
  const now = T0 * 1000;

  it("signs timestamp and body in the Stripe-style header", () => {
    expect(header).toMatch(/^t=1790000000,v1=[0-9a-f]{64}$/);
    expect(signWebhook(SECRET, body, T0)).toBe(header);
    expect(signWebhook(SECRET, body, T0 + 1)).not.toBe(header);
  });

  it("accepts the genuine delivery, as a string or a Buffer", () => {
    expect(verifyWebhook(SECRET, body, header, { now })).toEqual({ ok: true, timestamp: T0 });
    expect(verifyWebhook(SECRET, Buffer.from(body), header, { now })).toEqual({ ok: true, timestamp: T0 });
  });

  it("rejects a tampered body and a wrong secret", () => {
    expect(verifyWebhook(SECRET, body.replace("world", "w0rld"), header, { now })).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    expect(verifyWebhook("another-secret", body, header, { now })).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("rejects a timestamp moved without re-signing", () => {
    const moved = header.replace(`t=${T0}`, `t=${T0 + 10}`);
    expect(verifyWebhook(SECRET, body, moved, { now })).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("rejects timestamps outside the tolerance either way, and accepts the edge", () => {
    expect(verifyWebhook(SECRET, body, header, { now: now + 301_000 })).toMatchObject({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
    expect(verifyWebhook(SECRET, body, header, { now: now - 301_000 })).toMatchObject({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
    expect(verifyWebhook(SECRET, body, header, { now: now + 300_000 }).ok).toBe(true);
    expect(verifyWebhook(SECRET, body, header, { now: now + 11_000, toleranceSeconds: 10 }).ok).toBe(false);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["no signature", `t=${T0}`],
    ["no timestamp", `v1=${"a".repeat(64)}`],
    ["short hex", `t=${T0},v1=abc`],
    ["non-numeric time", `t=soon,v1=${"a".repeat(64)}`],
    ["two timestamps", `t=${T0},t=${T0},v1=${"a".repeat(64)}`],
    ["garbage", "sha256=deadbeef"],
    ["huge", `t=${T0},v1=${"a".repeat(5000)}`],
  ])("rejects a malformed header (%s)", (_label, value) => {
    expect(verifyWebhook(SECRET, body, value, { now })).toMatchObject({ ok: false, reason: "malformed_header" });
  });

  it("accepts any one of several v1 signatures (secret rotation) and ignores unknown schemes", () => {
    const oldSig = signWebhook("old-secret", body, T0).split(",")[1];
    const newSig = header.split(",")[1];
    expect(verifyWebhook(SECRET, body, `t=${T0},${oldSig},${newSig},v2=xyz`, { now }).ok).toBe(true);
    expect(verifyWebhook("old-secret", body, `t=${T0},${oldSig},${newSig}`, { now }).ok).toBe(true);
  });
});

describe("sendWebhook against a real receiver on loopback", () => {
  it("legacy scheme: delivers signed deliveries the receiver accepts, and it rejects a tampered body and a replay", async () => {
    let clock = T0 * 1000;
    const hook = await receiver({ now: () => clock });
    const channel = createWebhookChannel(
      "ops-hook",
      { url: hook.url, secret: SECRET, signature: "legacy" },
      { now: () => clock },
    );

    await channel.send(notification);
    clock += 60_000;
    await channel.send({ ...notification, id: `${ALERT_ID}-8` });
    expect(hook.received.map((r) => r.status)).toEqual([204, 204]);
    const first = hook.received[0]!;
    expect(first.headers["content-type"]).toBe("application/json");
    expect(first.headers["overseer-notification-id"]).toBe(notification.id);
    expect(first.headers["overseer-alert-id"]).toBe(ALERT_ID);
    expect(hook.received[1]?.headers["overseer-notification-id"]).toBe(`${ALERT_ID}-8`);
    // The legacy scheme sends only its own signature header.
    expect(first.headers["webhook-signature"]).toBeUndefined();
    expect(JSON.parse(first.body)).toEqual({ version: 1, channel: "ops-hook", notification });

    // An attacker who captured the first delivery changes the body and keeps the header.
    const header = first.headers[SIGNATURE_HEADER] as string;
    const tampered = first.body.replace("3 jobs dead", "0 jobs dead");
    expect(await postRaw(hook.url, tampered, header)).toBe(401);
    expect(hook.received.at(-1)?.reason).toBe("bad_signature");

    // ... or replays it unchanged ten minutes later.
    clock += 10 * 60_000;
    expect(await postRaw(hook.url, first.body, header)).toBe(401);
    expect(hook.received.at(-1)?.reason).toBe("timestamp_out_of_tolerance");

    // Signed with the wrong secret.
    expect(await postRaw(hook.url, first.body, signWebhook("guess", first.body, Math.floor(clock / 1000)))).toBe(401);
    expect(hook.received.at(-1)?.reason).toBe("bad_signature");
  });

  it.each([
    [500, true],
    [502, true],
    [503, true],
    [408, true],
    [429, true],
    [400, false],
    [401, false],
    [404, false],
    [410, false],
    [302, false],
  ])("HTTP %i is retryable: %s", async (status, retryable) => {
    const hook = await receiver({
      respond: (_req, res) => {
        res.writeHead(status, status === 302 ? { location: "http://127.0.0.1:1/" } : {}).end("nope");
        return true;
      },
    });
    const err = await sendWebhook({ url: hook.url, secret: SECRET }, { a: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelDeliveryError);
    expect(err).toMatchObject({ retryable, status, code: `HTTP_${status}` });
  });

  it("passes Retry-After on a 429", async () => {
    const hook = await receiver({
      respond: (_req, res) => {
        res.writeHead(429, { "retry-after": "7" }).end();
        return true;
      },
    });
    const err = await sendWebhook({ url: hook.url, secret: SECRET }, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, retryAfterMs: 7_000 });
  });

  it("a refused connection is a retryable network error", async () => {
    const hook = await receiver();
    const url = hook.url;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const err = await sendWebhook({ url, secret: SECRET }, {}, { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, code: "NETWORK_ERROR" });
  });

  it("a receiver that never answers times out, retryably", async () => {
    const hook = await receiver({ respond: () => true });
    const started = Date.now();
    const err = await sendWebhook({ url: hook.url, secret: SECRET }, {}, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, code: "TIMEOUT" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("does not leak the query string (which may hold a token) into errors", async () => {
    const hook = await receiver({
      respond: (_req, res) => {
        res.writeHead(400).end();
        return true;
      },
    });
    const err = (await sendWebhook({ url: `${hook.url}?token=s3cret`, secret: SECRET }, {}).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.message).not.toContain("s3cret");
  });

  it("uses an injected fetch", async () => {
    const calls: RequestInit[] = [];
    await sendWebhook(
      { url: "http://127.0.0.1:9/x", secret: SECRET, signature: "legacy" },
      { a: 1 },
      {
        now: () => T0 * 1000,
        fetch: async (_url, init) => {
          calls.push(init);
          return new Response(null, { status: 200 });
        },
      },
    );
    const headers = calls[0]?.headers as Record<string, string>;
    expect(headers[SIGNATURE_HEADER]).toBe(signWebhook(SECRET, '{"a":1}', T0));
  });
});

/** A Standard Webhooks secret as the spec writes it: `whsec_` and 32 random bytes in base64. */
const WHSEC = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;

/** A receiver that verifies with the `standardwebhooks` library, as a user's endpoint would. */
async function standardReceiver(verifier: Webhook): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      let reason: string | undefined;
      try {
        verifier.verify(raw, req.headers as Record<string, string>);
      } catch (err) {
        reason = (err as Error).message;
      }
      const status = reason === undefined ? 204 : 401;
      received.push({ status, body: raw.toString("utf8"), headers: req.headers, ...(reason ? { reason } : {}) });
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

/** Posts a body with chosen headers, as an attacker would. */
async function postWith(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    signal: AbortSignal.timeout(5_000),
  });
  await res.text();
  return res.status;
}

function pick(headers: IncomingMessage["headers"], ...names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, String(headers[n])]));
}

describe("Standard Webhooks scheme (the default), verified with the standardwebhooks library", () => {
  it("signs id, timestamp and body exactly as the library does, for a whsec_ secret and a raw one", () => {
    const body = JSON.stringify({ hello: "world" });
    const at = new Date(T0 * 1000);
    expect(signStandardWebhook(WHSEC, "msg_1", T0, body)).toBe(new Webhook(WHSEC).sign("msg_1", at, body));
    const raw = "a raw secret, not base64";
    expect(signStandardWebhook(raw, "msg_1", T0, body)).toBe(
      new Webhook(new TextEncoder().encode(raw), { format: "raw" }).sign("msg_1", at, body),
    );
    expect(signStandardWebhook(WHSEC, "msg_1", T0, body)).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it("a receiver using the library accepts each delivery, keyed by the notification's id, and refuses a tampered body and a wrong secret", async () => {
    const hook = await standardReceiver(new Webhook(WHSEC));
    const channel = createWebhookChannel("ops-hook", { url: hook.url, secret: WHSEC });

    await channel.send(notification);
    await channel.send(notification); // a retry of the same notification
    await channel.send({ ...notification, id: `${ALERT_ID}-8`, at: "2026-11-21T12:05:00.000Z" }); // the next step
    expect(hook.received.map((r) => [r.status, r.reason])).toEqual([
      [204, undefined],
      [204, undefined],
      [204, undefined],
    ]);
    const [first, retry, next] = hook.received as [Received, Received, Received];
    expect(first.headers["webhook-id"]).toBe(notification.id);
    expect(retry.headers["webhook-id"]).toBe(notification.id);
    expect(next.headers["webhook-id"]).toBe(`${ALERT_ID}-8`);
    for (const r of hook.received) {
      expect(r.headers["overseer-notification-id"]).toBe(r.headers["webhook-id"]);
      expect(r.headers["overseer-alert-id"]).toBe(ALERT_ID);
      expect(r.headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
      expect(r.headers[SIGNATURE_HEADER]).toBeUndefined(); // the legacy header is not sent
    }
    expect(JSON.parse(first.body)).toEqual({ version: 1, channel: "ops-hook", notification });

    // Someone who captured a delivery changes its body and keeps its headers.
    const signed = pick(first.headers, "webhook-id", "webhook-timestamp", "webhook-signature");
    expect(await postWith(hook.url, first.body.replace("3 jobs dead", "0 jobs dead"), signed)).toBe(401);
    expect(hook.received.at(-1)?.reason).toBe("No matching signature found");
    // ... or moves it to another notification id.
    expect(await postWith(hook.url, first.body, { ...signed, "webhook-id": `${ALERT_ID}-9` })).toBe(401);
    expect(hook.received.at(-1)?.reason).toBe("No matching signature found");
    // The genuine headers and body still pass (the library checks the timestamp against its own clock).
    expect(await postWith(hook.url, first.body, signed)).toBe(204);

    // Signed with a secret the receiver does not hold.
    const stranger = `whsec_${Buffer.from("fedcba9876543210fedcba9876543210").toString("base64")}`;
    const forged = createWebhookChannel("ops-hook", { url: hook.url, secret: stranger });
    await expect(forged.send(notification)).rejects.toMatchObject({ status: 401, retryable: false });
    expect(hook.received.at(-1)?.reason).toBe("No matching signature found");
  });

  it("a raw (non-whsec_) secret is the HMAC key's bytes: the library verifies it with format raw", async () => {
    const secret = "e2e-hook-secret";
    const hook = await standardReceiver(new Webhook(new TextEncoder().encode(secret), { format: "raw" }));
    await createWebhookChannel("h", { url: hook.url, secret }).send(notification);
    expect(hook.received.map((r) => r.status)).toEqual([204]);
  });

  it("still signs the legacy way when the channel says so", async () => {
    const hook = await receiver();
    await createWebhookChannel("h", { url: hook.url, secret: SECRET, signature: "legacy" }).send(notification);
    expect(hook.received.map((r) => r.status)).toEqual([204]);
    expect(hook.received[0]?.headers["webhook-id"]).toBeUndefined();
  });

  it.each([
    ["a raw secret", "anything at all", null],
    ["32 bytes", WHSEC, null],
    ["24 bytes", `whsec_${Buffer.alloc(24, 1).toString("base64")}`, null],
    ["64 bytes", `whsec_${Buffer.alloc(64, 1).toString("base64")}`, null],
    ["23 bytes", `whsec_${Buffer.alloc(23, 1).toString("base64")}`, "must hold 24 to 64 bytes"],
    ["65 bytes", `whsec_${Buffer.alloc(65, 1).toString("base64")}`, "must hold 24 to 64 bytes"],
    ["not base64", "whsec_not*base64!", "must be followed by base64"],
    ["nothing after the prefix", "whsec_", "must be followed by base64"],
  ])("checks a whsec_ secret's shape (%s)", (_label, secret, problem) => {
    const found = standardSecretProblem(secret);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3", 0)).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
  });
});
