/**
 * Importing the SDK loads no validator and no mail library: a plain worker process stays small,
 * and config files, e-mail and the HTTP server pull their dependencies in only when used. Run in
 * a child process against the built package, with a resolve hook that lists what gets loaded.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const DIST = resolve(import.meta.dirname, "../../dist/index.js");
const HEAVY = ["zod", "yaml", "nodemailer", "fastify"];

it("importing the SDK loads none of zod, yaml, nodemailer or fastify", async () => {
  const hook = `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const m = /node_modules\\/([^/]+)\\//.exec(r.url);
  if (m) console.log("loaded " + m[1]);
  return r;
}`;
  const script = `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));
await import(${JSON.stringify(DIST)});`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
  const loaded = new Set(
    stdout
      .split("\n")
      .filter((l) => l.startsWith("loaded "))
      .map((l) => l.slice(7)),
  );
  expect(HEAVY.filter((name) => loaded.has(name))).toEqual([]);
  expect(loaded.size).toBeGreaterThan(0); // the hook saw the SDK's own dependencies
});

it("the built package ships no test code: no module of it imports vitest", () => {
  const root = resolve(import.meta.dirname, "../../dist");
  const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
  expect(files.length).toBeGreaterThan(50);
  const importers = files.filter((f) => /from\s*"vitest"/.test(readFileSync(resolve(root, f), "utf8")));
  expect(importers).toEqual([]);
});
