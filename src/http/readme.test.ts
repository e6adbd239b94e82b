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

function readmeCurlBlock(heading = "\n## HTTP API\n"): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf(heading));
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

  // Streams and metrics, with the token of the first block. `curl | head` ends curl with a
  // broken pipe, as it does in an interactive shell: no pipefail here.
  const tokenLine = script.split("\n").find((l) => l.startsWith("TOKEN=")) ?? "";
  const streams = [
    tokenLine.replace("--name readme", "--name readme-streams"),
    readmeCurlBlock("\n### Live events and metrics\n"),
  ]
    .join("\n")
    .replaceAll("npx overseer", `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`)
    .replaceAll("http://127.0.0.1:7070", url);
  const live = await run("bash", ["-eu", "-c", streams], { cwd: dir, timeout: 30_000 });
  const lines = live.stdout.split("\n");
  expect(lines[0]).toBe("retry: 2000");
  expect(lines[2]).toBe("id: 1");
  expect(JSON.parse(lines[3]?.replace(/^data: /, "") ?? "")).toMatchObject({ seq: 1 });
  expect(lines).toContain("retry: 2000");
  expect(lines.filter((l) => l === "id: 1")).toHaveLength(2);
  expect(live.stdout).toMatch(/^overseer_jobs\{queue="[^"]+",state="queued"\} \d+$/m);
});
