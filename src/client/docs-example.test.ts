/**
 * The client's example in docs/http-api.md, run as written against a real server, with only
 * `overseer/client` pointed at the built module (the package's export of the same file).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { expect, it, onTestFinished } from "vitest";
import { testApi } from "../test-support/http.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BUILT = pathToFileURL(join(ROOT, "dist/client/index.js")).href;

function example(): string {
  const doc = readFileSync(join(ROOT, "docs/http-api.md"), "utf8");
  const section = doc.slice(doc.indexOf("\n## The client\n"));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("docs/http-api.md: no js block under ## The client");
  return block;
}

it("the client's example in the HTTP API doc runs as written", async () => {
  const { exports } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  expect(exports["./client"].default).toBe("./dist/client/index.js");
  const api = await testApi();
  const dir = mkdtempSync(join(tmpdir(), "overseer-client-doc-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "example.mjs");
  writeFileSync(file, example().replace('"overseer/client"', JSON.stringify(BUILT)));
  const env = { ...process.env, OVERSEER_URL: api.url, OVERSEER_TOKEN: api.tokens.operator };
  const run = () => promisify(execFile)(process.execPath, [file], { env, timeout: 30_000 });

  const { stdout } = await run();
  const [job] = (await api.overseer.listJobs({ limit: 10 })).map((j) => j.id);
  expect(stdout.split("\n")).toEqual([
    `enqueued ${job} queued`,
    `queued ${job}`,
    expect.stringMatching(/^event \d+ job\.enqueued$/),
    'JOB_NOT_FOUND no job with id "01NOSUCHJOB0000000000000000"',
    "",
  ]);
  // Again: the idempotency key finds the same job.
  expect((await run()).stdout).toMatch(new RegExp(`^already enqueued ${job} queued\\n`));
});
