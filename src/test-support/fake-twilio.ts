/**
 * A fake of Twilio's REST API on loopback (port 0) for tests: enough of `Messages.json` and
 * `Calls.json` (2010-04-01) to drive the phone provider over real HTTP as Twilio would. It checks
 * HTTP basic auth against its account SID and auth token (401, error 20003, otherwise) and the
 * path's account (404, error 20404), reads the form-encoded body, refuses what Twilio refuses
 * (a `To` or `From` that is no E.164 number: 21211 / 21212; a missing or too long body: 21602 /
 * 21617; TwiML that is missing, too long or not a `<Response>`: 12100), and records every
 * request, every text and every call (with what the call says, unescaped). A test can make the
 * next requests fail with any status and Twilio error (`failNext`), or leave them unanswered
 * (`hang`), to watch a timeout.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface FakeTwilioRequest {
  method: string;
  path: string;
  /** The Authorization header as sent. */
  authorization: string | undefined;
  contentType: string | undefined;
  /** The form fields. */
  params: Record<string, string>;
  /** What it was answered. */
  status: number;
}

export interface FakeSms {
  sid: string;
  to: string;
  from: string;
  body: string;
}

export interface FakeCall {
  sid: string;
  to: string;
  from: string;
  twiml: string;
  /** The text of each `<Say>`, unescaped, in order. */
  said: string[];
}

/** A refusal to answer with: the HTTP status, and Twilio's error code and message in the body. */
export interface FakeTwilioFailure {
  status: number;
  code?: number;
  message?: string;
  /** Sent as Retry-After (seconds). */
  retryAfter?: number;
}

export interface FakeTwilio {
  /** Pass as the provider's `url`. */
  readonly url: string;
  readonly accountSid: string;
  readonly authToken: string;
  /** Every request, in order, refused ones included. */
  readonly requests: FakeTwilioRequest[];
  readonly messages: FakeSms[];
  readonly calls: FakeCall[];
  /** The next `count` requests (after the auth check) are answered with this failure. */
  failNext(failure: FakeTwilioFailure, count?: number): void;
  /** While true, requests are held unanswered (until this is false again, or the fake closes). */
  hang: boolean;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{7,14}$/;
const MAX_BODY = 1_600;
const MAX_TWIML = 4_000;

export async function startFakeTwilio(options: { accountSid?: string; authToken?: string } = {}): Promise<FakeTwilio> {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString("hex")}`;
  const authToken = options.authToken ?? randomBytes(16).toString("hex");
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
  const requests: FakeTwilioRequest[] = [];
  const messages: FakeSms[] = [];
  const calls: FakeCall[] = [];
  const failures: FakeTwilioFailure[] = [];
  const held = new Set<() => void>();
  const sockets = new Set<Socket>();
  let hang = false;

  const answer = (res: ServerResponse, record: FakeTwilioRequest, status: number, body: unknown, headers = {}) => {
    record.status = status;
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  };
  const refuse = (res: ServerResponse, record: FakeTwilioRequest, failure: FakeTwilioFailure) =>
    answer(
      res,
      record,
      failure.status,
      {
        code: failure.code ?? null,
        message: failure.message ?? `HTTP ${failure.status}`,
        more_info: failure.code === undefined ? null : `https://www.twilio.com/docs/errors/${failure.code}`,
        status: failure.status,
      },
      failure.retryAfter === undefined ? {} : { "retry-after": String(failure.retryAfter) },
    );

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const path = req.url?.split("?")[0] ?? "";
    const params = Object.fromEntries(new URLSearchParams(raw));
    const record: FakeTwilioRequest = {
      method: req.method ?? "",
      path,
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      params,
      status: 0,
    };
    requests.push(record);
    while (hang) await new Promise<void>((resolve) => held.add(resolve));
    if (req.headers.authorization !== expectedAuth) {
      refuse(res, record, { status: 401, code: 20003, message: "Authenticate" });
      return;
    }
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(path);
    if (req.method !== "POST" || match === null || decodeURIComponent(match[1] ?? "") !== accountSid) {
      refuse(res, record, {
        status: 404,
        code: 20404,
        message: `The requested resource ${path} was not found`,
      });
      return;
    }
    const failure = failures.shift();
    if (failure !== undefined) {
      refuse(res, record, failure);
      return;
    }
    if (!/^application\/x-www-form-urlencoded/.test(req.headers["content-type"] ?? "")) {
      refuse(res, record, {
        status: 400,
        code: 20001,
        message: "Content-Type must be application/x-www-form-urlencoded",
      });
      return;
    }
    const to = params.To ?? "";
    const from = params.From ?? "";
    if (!E164.test(to)) {
      refuse(res, record, { status: 400, code: 21211, message: `The 'To' number ${to} is not a valid phone number.` });
      return;
    }
    if (!E164.test(from)) {
      refuse(res, record, {
        status: 400,
        code: 21212,
        message: `The 'From' number ${from} is not a valid phone number, shortcode, or alpha sender ID.`,
      });
      return;
    }
    if (match[2] === "Messages") {
      const body = params.Body ?? "";
      if (body === "") {
        refuse(res, record, { status: 400, code: 21602, message: "Message body is required." });
        return;
      }
      if (body.length > MAX_BODY) {
        refuse(res, record, {
          status: 400,
          code: 21617,
          message: "The concatenated message body exceeds the 1600 character limit.",
        });
        return;
      }
      const sms: FakeSms = { sid: `SM${randomBytes(16).toString("hex")}`, to, from, body };
      messages.push(sms);
      answer(res, record, 201, { sid: sms.sid, account_sid: accountSid, to, from, body, status: "queued" });
      return;
    }
    const twiml = params.Twiml ?? "";
    const said = sayings(twiml);
    if (said === null || twiml.length > MAX_TWIML) {
      refuse(res, record, { status: 400, code: 12100, message: "Document parse failure" });
      return;
    }
    const call: FakeCall = { sid: `CA${randomBytes(16).toString("hex")}`, to, from, twiml, said };
    calls.push(call);
    answer(res, record, 201, { sid: call.sid, account_sid: accountSid, to, from, status: "queued" });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((err: unknown) => {
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ message: String(err) }));
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const release = () => {
    for (const resolve of [...held]) {
      held.delete(resolve);
      resolve();
    }
  };

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    messages,
    calls,
    failNext(failure, count = 1) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    get hang() {
      return hang;
    },
    set hang(value: boolean) {
      hang = value;
      if (!value) release();
    },
    async close() {
      hang = false;
      release();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The text of each `<Say>` in a `<Response>`, unescaped; null when the TwiML is not a
 * `<Response>` of `<Say>` and `<Pause>` verbs, or holds a bare `<` or `&`, as Twilio's parser would.
 */
export function sayings(twiml: string): string[] | null {
  const doc = /^<Response>((?:<Say>[^<]*<\/Say>|<Pause(?: length="\d+")?\/>)*)<\/Response>$/.exec(twiml);
  if (doc === null) return null;
  const said: string[] = [];
  for (const m of (doc[1] ?? "").matchAll(/<Say>([^<]*)<\/Say>/g)) {
    const text = m[1] ?? "";
    if (/&(?!(?:amp|lt|gt|quot|apos);)/.test(text)) return null;
    said.push(
      text
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&"),
    );
  }
  return said.length === 0 ? null : said;
}
