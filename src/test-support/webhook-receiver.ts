/**
 * A webhook receiver on loopback (port 0) for tests: verifies every delivery's signature with
 * `verifyWebhook` on the raw body, as a real receiver would, and keeps what it accepted.
 * `status` says what to answer next (200 by default).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SIGNATURE_HEADER, verifyWebhook, type WebhookPayload } from "../alerts/channels/webhook.js";

export interface WebhookReceiver {
  readonly url: string;
  /** Deliveries whose signature checked out. */
  readonly accepted: WebhookPayload[];
  /** Deliveries refused (bad or missing signature), with the reason. */
  readonly rejected: string[];
  /** The status to answer with from now on. */
  status: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const accepted: WebhookPayload[] = [];
  const rejected: string[] = [];
  const receiver = { accepted, rejected, status: 200 } as WebhookReceiver & { url: string };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const header = req.headers[SIGNATURE_HEADER];
      const check = verifyWebhook(secret, body, Array.isArray(header) ? header[0] : header);
      if (!check.ok) {
        rejected.push(check.reason);
        res.writeHead(401).end();
        return;
      }
      if (receiver.status < 300) accepted.push(JSON.parse(body.toString("utf8")) as WebhookPayload);
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/hook`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}
