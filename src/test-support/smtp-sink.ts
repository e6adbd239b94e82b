/**
 * An SMTP sink on loopback (port 0) for tests, built on `smtp-server`: it accepts mail
 * without TLS (STARTTLS hidden, so no certificate is needed) and records each message with
 * its envelope. Options pass through, so a test can require auth or refuse recipients;
 * `failNext` refuses the next messages with 451, so a test can watch a retry.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface SunkMail {
  from: string;
  to: string[];
  /** The message as received: headers, a blank line, the body. */
  raw: string;
  /** The authenticated user, when the client logged in. */
  user?: string;
}

export interface SmtpSink {
  /** `smtp://127.0.0.1:<port>` */
  readonly url: string;
  readonly mail: SunkMail[];
  /** Messages received and then refused with 451 (see `failNext`). */
  readonly refused: SunkMail[];
  /** Refuse this many of the next messages with 451 (try again later), after reading them. */
  failNext: number;
  close(): Promise<void>;
}

export async function startSmtpSink(options: Partial<SMTPServerOptions> = {}): Promise<SmtpSink> {
  const mail: SunkMail[] = [];
  const refused: SunkMail[] = [];
  const sink = { failNext: 0 };
  const server = new SMTPServer({
    authOptional: true,
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const received: SunkMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          ...(session.user === undefined ? {} : { user: String(session.user) }),
        };
        if (sink.failNext > 0) {
          sink.failNext--;
          refused.push(received);
          callback(Object.assign(new Error("Try again later"), { responseCode: 451 }));
          return;
        }
        mail.push(received);
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  let closed: Promise<void> | null = null;
  return Object.assign(sink, {
    url: `smtp://127.0.0.1:${port}`,
    mail,
    refused,
    close() {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closed;
    },
  });
}
