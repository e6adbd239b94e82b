/**
 * Claim takers in a process of their own, for the cross-process claim tests: opens the database,
 * prints "ready", and on SIGUSR2 (sent to every taker at once) takes `key` once per owner, all
 * concurrently, printing one `result <json>` line per owner, then exits. Configured by one JSON
 * argument: { database, key, owners, ttl }.
 */
import { createOverseer } from "../../dist/index.js";

const config = JSON.parse(process.argv[2] ?? "{}");
const overseer = await createOverseer({ database: config.database });
// A signal listener does not keep a process alive, and an idle SQLite store holds no handle that does.
const alive = setInterval(() => undefined, 1_000);
const go = new Promise((resolve) => process.once("SIGUSR2", resolve));
process.stdout.write("ready\n");
await go;
clearInterval(alive);
const at = Date.now();
await Promise.all(
  config.owners.map(async (owner) => {
    let line;
    try {
      const { acquired, claim } = await overseer.takeClaim(config.key, owner, config.ttl);
      line = { owner, acquired, token: claim.token, at, ms: Date.now() - at };
    } catch (err) {
      line = { owner, code: err.code ?? "UNEXPECTED", holder: err.details?.owner ?? null, message: err.message };
    }
    process.stdout.write(`result ${JSON.stringify(line)}\n`);
  }),
);
await overseer.close();
