// Approval-gated agent commands, end to end on one node: two scripted agents race for a backlog
// over MCP (one owner per item, by claims), each proposes its items' `gh` commands, every
// proposal asks the maintainers' Telegram chat, people decide by button and by reply (a stranger
// is refused), execution is dry-run until an admin turns it on, a Telegram outage sends the next
// request to the fallback webhook at once, and the conservative re-queue policy looks at the dead
// notification. Every step is in the event log and in agent-commands.ndjson. The Bot API is a
// fake on loopback and `gh` a stand-in (bin/gh), so nothing leaves the machine.

import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { delimiter, join } from "node:path";
import { startNode } from "overseer";
import { parseConfig } from "overseer/config";
import { generateSecret } from "overseer/http";
import { startFakeBotApi } from "../embedded-node/fake-bot-api.mjs";
import { connectAgent } from "./agent.mjs";

const here = import.meta.dirname;
const APPROVER = 111; // a maintainer: the channel's approvers and the group's member
const STRANGER = 999; // in the chat, not an approver
const CHAT = -1001234567890;
const backlog = JSON.parse(readFileSync(join(here, "backlog.json"), "utf8"));

// The fakes: Telegram's Bot API, and the webhook the channel falls back to.
const bot = await startFakeBotApi();
const hook = await startReceiver();
process.env.AGENT_COMMANDS_BOT_TOKEN = bot.token;
process.env.AGENT_COMMANDS_HOOK_SECRET = generateSecret();
// Commands run with bin/ first on the PATH, so `gh` is the stand-in.
process.env.PATH = `${join(here, "bin")}${delimiter}${process.env.PATH}`;

// The config as a maintainer would write it, pointed at the fakes.
const file = JSON.parse(readFileSync(join(here, "overseer.config.json"), "utf8"));
file.alerts.channels["maintainers-tg"].apiBaseUrl = bot.url;
file.alerts.channels["ops-hook"].url = hook.url;
file.commands.cwd = process.cwd(); // where the approved commands run
const config = parseConfig(file, "overseer.config.json", here);

const adminToken = generateSecret();
const node = await startNode({
  database: "./agent-commands.db",
  ...config,
  http: { port: Number(process.env.PORT ?? 0), adminToken },
  eventsNdjson: "./agent-commands.ndjson",
  worker: { pollMs: 50 },
});
const { overseer } = node;
console.log(`dashboard on ${node.url}/ (execution: ${(await overseer.execution()).mode})`);

// Two agents, each with an operator token of its own, race for the backlog.
const agents = [];
for (const name of ["agent-a", "agent-b"]) {
  const { secret } = await overseer.createToken(name, "operator");
  agents.push(await connectAgent(name, { url: node.url, token: secret }));
}
// They start from opposite ends of the backlog and meet in the middle.
const claims = await Promise.all([agents[0].claim(backlog), agents[1].claim([...backlog].reverse())]);
const owners = new Map();
for (const [i, agent] of agents.entries()) for (const item of claims[i].took) owners.set(item.id, agent);
for (const item of backlog) {
  const refused = claims.flatMap((c) => c.lost).filter((l) => l.item.id === item.id);
  console.log(
    `${item.id}: claimed by ${owners.get(item.id).name}; ${refused.length} other refused (${refused.map((r) => r.why.split(":")[0]).join(", ")})`,
  );
}
const jobs = new Map();
for (const item of backlog) jobs.set(item.id, await owners.get(item.id).propose(item));

// Each proposal reaches the chat with the command and Approve / Deny.
const requests = new Map();
for (const item of backlog) {
  requests.set(item.id, await request(item));
}
const [first, second, third] = backlog.map((item) => requests.get(item.id));

// Someone who is not an approver tries a button and a reply: both refused, and audited.
bot.press(STRANGER, first.message, "approve");
bot.say(STRANGER, CHAT, `approve ${second.id}`);
const refusals = await waitForEvents("approval.refused", 2);
console.log(`refused user ${STRANGER}: ${refusals.map((e) => `${e.data.action} by ${e.data.via}`).join(", ")}`);

// A maintainer approves the first by button and denies the second by reply.
bot.press(APPROVER, first.message, "approve");
bot.say(APPROVER, CHAT, `deny ${second.id} not this sprint`);
for (const item of backlog.slice(0, 2)) {
  const { job } = await owners.get(item.id).outcome(jobs.get(item.id));
  console.log(`${item.id}: ${describe(job.result)}`);
}
console.log(`gh was called ${existsSync("gh-calls.log") ? "" : "0 times"}`.trim());

// An admin turns execution on; the next approved command runs.
const on = await api("PUT", "/execution", { mode: "enabled", reason: "release window" });
console.log(`execution ${on.mode}, by ${on.changedBy}: ${on.reason}`);
// The third was asked in dry-run mode, so approving it still runs nothing: its approver saw DRY
// RUN. Its agent proposes it again, and this time the approved command runs.
const last = backlog[2];
bot.press(APPROVER, third.message, "approve");
const { job: shownDry } = await owners.get(last.id).outcome(jobs.get(last.id));
console.log(`${last.id}: ${describe(shownDry.result)} (it was asked before execution was on)`);
const again = await owners.get(last.id).propose(last);
bot.press(APPROVER, (await request(last, requests.get(last.id).message)).message, "approve");
const { job: ran } = await owners.get(last.id).outcome(again);
console.log(`${last.id}: ${describe(ran.result)}`);
console.log(`gh-calls.log: ${readFileSync("gh-calls.log", "utf8").trim()}`);

// Telegram stops taking the bot's messages: the next request goes to the fallback at once.
bot.refuseSends(403, "Forbidden: bot was kicked from the supergroup chat");
const asked = await agents[0].call("request_approval", { title: "Tag release 2.4.0", risk: "medium" });
const delivered = await hook.next();
console.log(`telegram refused the bot; ops-hook got "${delivered.notification.title}" at once`);
const plan = await api("POST", "/jobs/requeue-dead", { task: "overseer.notify", dryRun: true });
console.log(
  `re-queue policy, dry run: ${plan.requeued} of ${plan.jobs.length} dead notification(s): ${plan.jobs.map((j) => j.reason).join("; ")}`,
);
await api("POST", `/jobs/${asked.jobId}/cancel`, {});

for (const item of backlog) await owners.get(item.id).release(item);
for (const agent of agents) await agent.close();

if (process.argv.includes("--stay")) {
  console.log(`sign in to the dashboard with ${adminToken}; Ctrl-C to stop`);
  await new Promise((resolve) => process.once("SIGINT", resolve).once("SIGTERM", resolve));
}
await node.stop();
await Promise.all([bot.close(), hook.close()]);
const lines = readFileSync("agent-commands.ndjson", "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line));
const audit = lines
  .map((e) => e.kind)
  .filter((kind) => /^(approval\.(refused|settled)|command\.|execution\.)/.test(kind));
console.log(`agent-commands.ndjson: ${lines.length} events; ${audit.join(", ")}`);
console.log("stopped");

async function api(method, path, body) {
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The request message of `item` (a newer one than `not`), as the chat shows it: its title, its command, its buttons. */
async function request(item, not) {
  const message = await bot.waitFor((m) => m !== not && m.text.includes(item.title) && m.buttons.length > 0);
  const lines = visible(message.text).split("\n");
  const command = lines[lines.indexOf("Command") + 1];
  console.log(`telegram: "${lines[0]}" shows "${command}" with ${message.buttons.map((b) => b.text).join(", ")}`);
  return { message, id: message.buttons[0].callback_data.split(":")[1] };
}

async function waitForEvents(kind, count) {
  for (;;) {
    const found = (await overseer.readEvents()).filter((e) => e.kind === kind);
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function describe(result) {
  if (result.decision === "denied") return `denied by ${result.decidedBy}: ${result.reason}`;
  if (result.dryRun) return `approved by ${result.decidedBy}, recorded as a dry run; nothing ran`;
  return `approved by ${result.decidedBy}, ran: ${result.output.trim()}`;
}

/** A message's text as Telegram shows it: no markup, entities decoded. */
function visible(html) {
  return html
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/** A webhook receiver on loopback: the deliveries of the fallback channel, in order. */
async function startReceiver() {
  const received = [];
  let arrived = () => undefined;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
      arrived();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/overseer`,
    async next() {
      while (received.length === 0) await new Promise((resolve) => (arrived = resolve));
      return received.shift();
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
