/**
 * A webhook receiver on loopback (port 0) for tests: verifies every delivery's signature on the
 * raw body, as a real receiver would: with the `standardwebhooks` library for the standard scheme
 * (the default), with `verifyWebhook` for the legacy one. It keeps what it accepted, and every
 * verified delivery with its headers (also ones it answered with a failure, so a retry can be
 * compared with the attempt before it). `status` says what to answer next (200 by default).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import {
  ALERT_ID_HEADER,
  NOTIFICATION_ID_HEADER,
  SIGNATURE_HEADER,
  type SignatureScheme,
  STANDARD_SECRET_PREFIX,
  verifyWebhook,
  type WebhookPayload,
} from "../alerts/channels/webhook.js";

export interface VerifiedDelivery {
  /** `webhook-id` (standard) or `Overseer-Notification-Id` (legacy). */
  id: string;
  /** `Overseer-Alert-Id`, when sent. */
  alertId: string | undefined;
  /** The status it was answered with. */
  status: number;
  payload: WebhookPayload;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Deliveries whose signature checked out and that were answered with a 2xx. */
  readonly accepted: WebhookPayload[];
  /** Every delivery whose signature checked out, in arrival order, whatever it was answered. */
  readonly deliveries: VerifiedDelivery[];
  /** Deliveries refused (bad or missing signature), with the reason. */
  readonly rejected: string[];
  /** The status to answer with from now on. */
  status: number;
  /** Answer this many of the next verified deliveries with 503 (then `status` again). */
  failNext: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  secret: string,
  scheme: SignatureScheme = "standard",
): Promise<WebhookReceiver> {
  const accepted: WebhookPayload[] = [];
  const deliveries: VerifiedDelivery[] = [];
  const rejected: string[] = [];
  const receiver = { accepted, deliveries, rejected, status: 200, failNext: 0 } as WebhookReceiver & { url: string };
  // The library's two ways of taking a secret: `whsec_<base64>`, or its raw bytes.
  const standard = secret.startsWith(STANDARD_SECRET_PREFIX)
    ? new Webhook(secret)
    : new Webhook(new TextEncoder().encode(secret), { format: "raw" });
  const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      let payload: WebhookPayload;
      let id: string | undefined;
      if (scheme === "standard") {
        try {
          payload = standard.verify(body, req.headers as Record<string, string>) as WebhookPayload;
          id = header(req.headers["webhook-id"]);
        } catch (err) {
          rejected.push((err as Error).message);
          res.writeHead(401).end();
          return;
        }
      } else {
        const check = verifyWebhook(secret, body, header(req.headers[SIGNATURE_HEADER]));
        if (!check.ok) {
          rejected.push(check.reason);
          res.writeHead(401).end();
          return;
        }
        payload = JSON.parse(body.toString("utf8")) as WebhookPayload;
        id = header(req.headers[NOTIFICATION_ID_HEADER]);
      }
      let status = receiver.status;
      if (receiver.failNext > 0) {
        receiver.failNext--;
        status = 503;
      }
      deliveries.push({ id: id ?? "", alertId: header(req.headers[ALERT_ID_HEADER]), status, payload });
      if (status < 300) accepted.push(payload);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/hook`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}
