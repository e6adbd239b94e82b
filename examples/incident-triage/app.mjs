// Incident triage on Overseer: a whole node (the API and the dashboard, a worker running the
// triage sessions, alerts and the approval watchdog) and the example's own /incidents routes.
// Run several on one database (PostgreSQL, or one SQLite file) and they share the sessions.
//
//   DATABASE      the database: a SQLite file (default ./incident-triage.db) or a postgres:// URL
//   PORT          Overseer's API and dashboard (default 7070; 0 picks a free port)
//   APP_PORT      the /incidents routes (default 7071; 0 picks a free port)
//   OVERSEER_ADMIN_TOKEN  a secret to accept as the admin token (else one is made on first start)
//   INCIDENT_APPROVAL_TIMEOUT  how long a fix waits for a person before its alert escalates (15m)
//   WORKER=off    run no sessions here: an API node in front of worker nodes
import { createServer } from "node:http";
import { join } from "node:path";
import { startNode } from "overseer";
import { loadConfig } from "overseer/config";
import { incidentRoutes } from "./routes.mjs";
import { triage } from "./triage.mjs";

const config = await loadConfig(join(import.meta.dirname, "overseer.config.json"));

/** Pages (the config's console channel "pager"), what needs a person, and errors, on the terminal. */
const logger = {
  debug() {
    // quiet
  },
  info(fields) {
    if (fields?.channel === "pager") console.log(`page: ${fields.title}${fields.details ? `\n${fields.details}` : ""}`);
  },
  warn(_fields, message) {
    console.log(message);
  },
  error(fields, message) {
    console.error(`error: ${message}`, fields?.err ?? "");
  },
};

const node = await startNode({
  logger,
  database: process.env.DATABASE ?? "./incident-triage.db",
  tasks: process.env.WORKER === "off" ? [] : [triage],
  gates: config.gates,
  approvals: config.approvals,
  alerts: config.alerts,
  http: {
    port: Number(process.env.PORT ?? 7070),
    ...(process.env.OVERSEER_ADMIN_TOKEN ? { adminToken: process.env.OVERSEER_ADMIN_TOKEN } : {}),
  },
  worker: { pollMs: 200 },
});
const app = createServer(incidentRoutes(node.overseer, node.url));
await new Promise((resolve) => app.listen(Number(process.env.APP_PORT ?? 7071), "127.0.0.1", resolve));

console.log(`overseer on ${node.url}/ (the API under /api/v1)`);
console.log(`incidents on http://127.0.0.1:${app.address().port}/incidents`);
if (node.firstAdminToken) console.log(`sign in with the admin token ${node.firstAdminToken.secret}`);

const stop = async () => {
  app.close();
  await node.stop();
  console.log("stopped");
};
process.once("SIGINT", stop).once("SIGTERM", stop);
