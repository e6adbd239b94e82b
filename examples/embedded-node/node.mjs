// A whole Overseer node inside your own program, started with one call: the HTTP API and the
// dashboard, a worker, and alerts that ask a Telegram chat to approve a deploy. The deploy job
// is enqueued through the API, its approval request reaches the chat with Approve / Deny
// buttons, an approver presses Approve, and the job goes on. The Bot API is a fake on loopback
// (fake-bot-api.mjs); with `--stay` the node keeps serving the dashboard until Ctrl-C.
import { defineTask, startNode } from "overseer";
import { parseConfig } from "overseer/config";
import { generateSecret } from "overseer/http";
import { startFakeBotApi } from "./fake-bot-api.mjs";

const APPROVER = 4242; // the Telegram user id allowed to press Approve
const bot = await startFakeBotApi();
// Secrets never sit in a config, only the name of the variable holding them.
process.env.DEPLOY_BOT_TOKEN = bot.token;
const { alerts } = parseConfig(
  {
    alerts: {
      channels: {
        ops: {
          type: "telegram",
          chatId: "-1001234567890",
          botToken: "env:DEPLOY_BOT_TOKEN",
          approvers: [APPROVER],
          apiBaseUrl: bot.url,
        },
      },
      policies: { approvers: { steps: [{ delay: "0s", notify: ["ops"] }] } },
      rules: [{ when: "approval.pending", policy: "approvers" }],
    },
  },
  "node.mjs",
);

const deploy = defineTask("deploy", async (release, ctx) => {
  const decision = await ctx.requestApproval({ title: `Deploy ${release.version} to production`, timeout: "10m" });
  return { deployed: decision.approved, by: decision.decidedBy };
});

const adminToken = generateSecret(); // this run's admin token, for the API and the dashboard
const node = await startNode({
  database: "./embedded-node.db",
  tasks: [deploy],
  alerts,
  http: { port: Number(process.env.PORT ?? 0), adminToken },
});
console.log(`dashboard on ${node.url}/ (the API under /api/v1)`);

const api = async (path, body) => {
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
const job = await api("/jobs", { task: "deploy", payload: { version: "1.4.0" } });
console.log(`enqueued ${job.task} ${job.id} through the API`);

const message = await bot.nextMessage();
// The message is Telegram HTML (the title in bold): its first line, without the markup.
const title = message.text.split("\n")[0].replace(/<[^>]+>/g, "");
console.log(`telegram: "${title}" with ${message.buttons.map((b) => b.text).join(", ")}`);
bot.press(APPROVER, message, "approve");

let done = (await api(`/jobs/${job.id}`)).job;
for (let tries = 0; done.state !== "succeeded" && tries < 400; tries++) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  done = (await api(`/jobs/${job.id}`)).job;
}
console.log(`job ${done.id} ${done.state}:`, done.result);

if (process.argv.includes("--stay")) {
  console.log(`sign in to the dashboard with ${adminToken}; Ctrl-C to stop`);
  await new Promise((resolve) => process.once("SIGINT", resolve).once("SIGTERM", resolve));
}
await node.stop();
await bot.close();
console.log("stopped");
