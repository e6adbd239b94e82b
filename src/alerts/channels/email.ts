/**
 * E-mail channel over SMTP (nodemailer): one plain-text message per notification to the
 * configured recipients. SMTP's own reply codes say what may pass later: 4xx (mailbox busy,
 * greylisted) and connection trouble are retryable; 5xx (no such user, relay refused) and bad
 * credentials are not. One connection per message: alerts are rare, pools would sit idle.
 * Each message carries its notification's id (Message-ID, X-Overseer-Notification-Id) and its
 * alert's (X-Overseer-Alert-Id), so a retry is recognisably the same message.
 */
import type { Transporter } from "nodemailer";
import { type Channel, ChannelDeliveryError, type Notification, renderText } from "./channel.js";

export interface EmailTarget {
  /** `smtp://host:port` (STARTTLS when offered) or `smtps://host:port` (TLS from the start). */
  smtp: string;
  from: string;
  to: string[];
  user?: string;
  password?: string;
  /** Refuse to send unless the server upgrades to TLS (STARTTLS). */
  requireTls?: boolean;
  subjectPrefix?: string;
  /** Bound on connecting, the greeting, and each socket wait; 10 s by default. */
  timeoutMs?: number;
}

/** Errors that a second attempt cannot fix. */
const PERMANENT_CODES = new Set(["EAUTH", "EENVELOPE", "EMESSAGE", "EMAXLIMIT"]);

export function createEmailChannel(name: string, target: EmailTarget): Channel {
  const url = new URL(target.smtp);
  const secure = url.protocol === "smtps:";
  const timeout = target.timeoutMs ?? 10_000;
  // nodemailer is loaded with the first message: a process that never e-mails never loads it.
  let transport: Transporter | null = null;
  const open = async (): Promise<Transporter> => {
    transport ??= (await import("nodemailer")).default.createTransport({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port === "" ? (secure ? 465 : 587) : Number(url.port),
      secure,
      requireTLS: target.requireTls ?? false,
      ...(target.user === undefined ? {} : { auth: { user: target.user, pass: target.password ?? "" } }),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
    return transport;
  };
  const prefix = target.subjectPrefix ?? "[Overseer]";
  const domain = domainOf(target.from);
  return {
    name,
    type: "email",
    async send(notification) {
      try {
        await (await open()).sendMail({
          from: target.from,
          to: target.to,
          subject: subjectOf(prefix, notification),
          text: renderText(notification),
          ...identityOf(notification, domain),
        });
      } catch (err) {
        throw toDeliveryError(err, `${url.hostname}:${url.port}`);
      }
      return undefined; // a sent e-mail cannot be changed: no receipt
    },
    async close() {
      transport?.close();
    },
  };
}

/**
 * The headers that say which notification a message is, the same on every retry: Message-ID
 * from the notification's id (mail systems drop a second copy of one Message-ID), Date from when
 * it was due, and the alert's id, with References to it so that mail clients thread every
 * notification of one alert together.
 */
function identityOf(n: Notification, domain: string) {
  const alertHeaders = n.alertId === undefined ? {} : { "X-Overseer-Alert-Id": n.alertId };
  const at = new Date(n.at);
  return {
    messageId: `<${messageIdPart(n.id)}@${domain}>`,
    ...(Number.isNaN(at.getTime()) ? {} : { date: at }),
    ...(n.alertId === undefined ? {} : { references: `<alert-${messageIdPart(n.alertId)}@${domain}>` }),
    headers: { "X-Overseer-Notification-Id": n.id, ...alertHeaders },
  };
}

/** An id as the left part of a Message-ID (RFC 5322 dot-atom text): a bundle's ':' becomes '.'. */
function messageIdPart(id: string): string {
  return id.replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+/g, ".");
}

/** The sender's domain (`Overseer <overseer@example.com>` → example.com), for Message-IDs. */
function domainOf(from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1];
  return domain ?? "overseer.invalid";
}

function subjectOf(prefix: string, n: Notification): string {
  // A header line: no line breaks, and short enough to read in a list.
  const title = n.title.replace(/[\r\n]+/g, " ").slice(0, 180);
  return prefix === "" ? title : `${prefix} ${title}`;
}

function toDeliveryError(err: unknown, where: string): ChannelDeliveryError {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const status = typeof e.responseCode === "number" ? e.responseCode : undefined;
  const retryable = status !== undefined ? status < 500 : !PERMANENT_CODES.has(e.code ?? "");
  const reply = e.response ?? e.message ?? String(err);
  return new ChannelDeliveryError(`email via ${where}: ${reply}`, {
    retryable,
    code: status !== undefined ? `SMTP_${status}` : (e.code ?? "SMTP_ERROR"),
    ...(status === undefined ? {} : { status }),
    cause: err,
  });
}
