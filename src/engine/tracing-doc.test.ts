/**
 * The example in docs/tracing.md, run as written in a process of its own against the built
 * package, in a folder of its own: its imports are pointed at this checkout's `dist` and
 * `node_modules`, and its console exporter's output is read back as the spans it printed.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { expect, it, onTestFinished } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function example(): string {
  const doc = readFileSync(join(ROOT, "docs/tracing.md"), "utf8");
  const block = /```js\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf("\n## Turning it on\n")))?.[1];
  if (block === undefined) throw new Error("docs/tracing.md: no js block under ## Turning it on");
  const resolveHere = createRequire(join(ROOT, "package.json")).resolve;
  return block.replace(/from "([^"]+)"/g, (_, specifier: string) => {
    const url =
      specifier === "overseer" ? pathToFileURL(join(ROOT, "dist/index.js")) : pathToFileURL(resolveHere(specifier));
    return `from ${JSON.stringify(url.href)}`;
  });
}

it("the tracing doc's example prints one trace: its own span, two enqueues and three attempts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "overseer-tracing-doc-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "example.mjs"), example());
  const { stdout } = await promisify(execFile)(process.execPath, ["example.mjs"], { cwd: dir, timeout: 30_000 });

  // The console exporter prints each span as an object; its own fields are the ones indented once.
  const names = [...stdout.matchAll(/^ {2}name: '([^']+)'/gm)].map((m) => m[1]);
  expect(names.sort()).toEqual([
    "place order",
    "process default",
    "process default",
    "process default",
    "send default",
    "send default",
  ]);
  const traceIds = new Set([...stdout.matchAll(/^ {2}traceId: '([0-9a-f]{32})'/gm)].map((m) => m[1]));
  expect(traceIds.size).toBe(1);
  const [traceId] = traceIds;
  const last = stdout.trim().split("\n").at(-1);
  expect(last).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
});
