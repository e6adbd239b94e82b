/**
 * A small stand-in for Twilio's REST API on 127.0.0.1 (a free port), for the tests: it checks
 * HTTP basic auth as Twilio does, parses the form-encoded bodies, records every request, and
 * answers as a test tells it (a reply, or never: the request hangs until the server closes).
 * `press` plays the part of the phone: it reads a placed call's TwiML and posts the digit to its
 * Gather's action as Twilio does. Closed when the test that started it ends.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";

export type TwilioResource = "Messages" | "Calls";

export interface TwilioRequest {
  resource: TwilioResource | null;
  path: string;
  /** Whether the basic auth was this account's SID and token. */
  authorized: boolean;
  form: Record<string, string>;
}

export type TwilioReply = { status: number; body?: unknown } | "hang";

export interface FakeTwilio {
  readonly url: string;
  readonly accountSid: string;
  readonly authToken: string;
  /** Every request, in the order received (those that hang too). */
  readonly requests: TwilioRequest[];
  /** How the requests for `resource` are answered from now on. */
  reply(resource: TwilioResource, reply: TwilioReply): void;
  /**
   * Whoever picked up call `call` (its index among the Calls requests) presses `digits`: Twilio
   * posts them, form-encoded, to the TwiML's Gather action; what the app answered.
   */
  press(call: number, digits: string): Promise<{ status: number; contentType: string; text: string }>;
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = "AC0123456789abcdef0123456789abcdef";
  const authToken = "test-auth-token-do-not-print-0123456789";
  const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
  const requests: TwilioRequest[] = [];
  const replies: Record<TwilioResource, TwilioReply> = {
    Messages: { status: 201, body: { sid: "SM0001", status: "queued" } },
    Calls: { status: 201, body: { sid: "CA0001", status: "queued" } },
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const path = new URL(req.url ?? "/", "http://twilio.test").pathname;
    const match = new RegExp(`^/2010-04-01/Accounts/${accountSid}/(Messages|Calls)\\.json$`).exec(path);
    const resource = (match?.[1] as TwilioResource | undefined) ?? null;
    const authorized = req.headers.authorization === expected;
    const form =
      req.headers["content-type"] === "application/x-www-form-urlencoded"
        ? Object.fromEntries(new URLSearchParams(text))
        : {};
    requests.push({ resource, path, authorized, form });
    if (!authorized) return send(res, 401, { code: 20003, message: "Authenticate", status: 401 });
    if (req.method !== "POST" || resource === null) {
      return send(res, 404, { code: 20404, message: "The requested resource was not found", status: 404 });
    }
    const reply = replies[resource];
    if (reply === "hang") return; // answered never: the server's close ends it
    send(res, reply.status, reply.body ?? {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    reply: (resource, reply) => {
      replies[resource] = reply;
    },
    press: async (call, digits) => {
      const placed = requests.filter((r) => r.resource === "Calls")[call];
      const action = /<Gather [^>]*action="([^"]*)"/.exec(placed?.form.Twiml ?? "")?.[1];
      if (action === undefined) throw new Error(`call ${call} has no TwiML with a Gather action`);
      const url = action.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => XML_ENTITIES[name] ?? "");
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" },
        body: new URLSearchParams({ AccountSid: accountSid, CallSid: `CA${call}`, Digits: digits }).toString(),
      });
      return { status: res.status, contentType: res.headers.get("content-type") ?? "", text: await res.text() };
    },
  };
}
