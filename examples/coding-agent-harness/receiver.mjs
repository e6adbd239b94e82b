// A webhook receiver for the example's alerts: listens on 127.0.0.1:8787 (or $PORT), checks each
// delivery's Standard Webhooks signature with the secret in $HOOK_SECRET, and prints the alert.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const secret = process.env.HOOK_SECRET;
if (!secret) {
  console.error("set HOOK_SECRET to the secret the Overseer config names (env:HOOK_SECRET)");
  process.exit(2);
}
const hook = new Webhook(secret);
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    try {
      const delivery = hook.verify(body, req.headers);
      console.log(JSON.stringify({ verified: true, title: delivery.notification.title, delivery }));
      res.writeHead(204).end();
    } catch (err) {
      console.log(JSON.stringify({ verified: false, error: String(err) }));
      res.writeHead(400).end();
    }
  });
});
server.listen(Number(process.env.PORT ?? 8787), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/overseer`);
});
