/**
 * An SMTP sink on loopback (port 0) for tests, built on `smtp-server`: it accepts mail
 * without TLS (STARTTLS hidden, so no certificate is needed) and records each message with
 * its envelope. Options pass through, so a test can require auth or refuse recipients.
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
  close(): Promise<void>;
}

export async function startSmtpSink(options: Partial<SMTPServerOptions> = {}): Promise<SmtpSink> {
  const mail: SunkMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mail.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          ...(session.user === undefined ? {} : { user: String(session.user) }),
        });
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
  return {
    url: `smtp://127.0.0.1:${port}`,
    mail,
    close() {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closed;
    },
  };
}
