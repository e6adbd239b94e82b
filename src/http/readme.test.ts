/**
 * The README's curl examples, run as written against `overseer start --demo` on a fresh folder:
 * only `npx overseer` becomes the built binary and the port the one the server picked.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { BIN, cliSandbox } from "../test-support/cli.js";
import { waitFor } from "../test-support/wait.js";

const run = promisify(execFile);
const cli = cliSandbox("overseer-readme-");

function readmeCurlBlock(): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("\n## HTTP API\n"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block?.includes("curl")) throw new Error("README.md: no sh block with curl under ## HTTP API");
  return block;
}

it("the README's HTTP API examples work as written", async () => {
  const dir = cli.tempDir();
  const node = cli.start(["start", "--demo", "--no-summary", "--port", "0"]);
  let out = "";
  node.stdout?.on("data", (d) => (out += d));
  const url = (
    await waitFor("the API's URL", () => /HTTP API on (http:\/\/\S+)\/api\/v1/.exec(out), { timeoutMs: 15_000 })
  )[1] as string;
  const script = readmeCurlBlock()
    .replaceAll("npx overseer", `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`)
    .replaceAll("http://127.0.0.1:7070", url);
  const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script], { cwd: dir, timeout: 30_000 });
  const documents = stdout
    .replace(/\}\{/g, "}\n{")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
  expect(documents).toHaveLength(3);
  const [enqueued, listed, retried] = documents;
  expect(enqueued).toMatchObject({ task: "send-email", priority: -10, payload: { to: "ada@example.com" } });
  expect(listed).toMatchObject({ items: expect.any(Array) });
  expect(listed).toHaveProperty("nextCursor");
  expect(retried).toMatchObject({ matched: expect.any(Number), changed: expect.any(Number), skipped: [] });
});
