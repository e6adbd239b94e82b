// A scripted stand-in for a coding agent CLI (one turn per call), for trying Overseer's run
// harness without a model. It reads its prompt on stdin, works out from the log in that prompt
// which step it is on, does the step in a scratch git repository (./project), reports what it did
// as telemetry lines, appends to its own logs (agent-log.md, decision-log.md), and creates DONE
// when it has finished. Overseer builds the next prompt from those logs: this file keeps no
// other state. Once, it asks a person a question and ends its turn: the run waits, holding no
// process, and the answer comes in the next prompt. A real agent (a model behind a CLI) would
// replace this file and nothing else.
//
//   node agent.mjs [--pace=MS] [--stuck]
//     --pace: how long a turn "thinks" (default 1500 ms)
//     --stuck: read, think, and change nothing (to show RUN_NO_PROGRESS)
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const prompt = readFileSync(0, "utf8");
const stuck = process.argv.includes("--stuck");
const pace = Number(process.argv.find((a) => a.startsWith("--pace="))?.slice(7) ?? 1500);
const turn = Number(process.env.OVERSEER_TURN ?? 1);

const tell = (event) => console.log(JSON.stringify({ overseer_event: event.kind, ...event, kind: undefined }));
const say = (line) => console.log(line);
const write = (path, text) => {
  writeFileSync(path, text);
  tell({ kind: "file_written", path });
};
const log = (line) => {
  appendFileSync("agent-log.md", `${line}\n`);
  tell({ kind: "log_updated", path: "agent-log.md" });
};
const decide = (line) => appendFileSync("decision-log.md", `${line}\n`);
const git = (...args) => execFileSync("git", ["-C", "project", ...args], { stdio: "pipe" });

// Keep each prompt, to read what the harness gave each turn, and each turn's number once per call.
mkdirSync(".prompts", { recursive: true });
writeFileSync(`.prompts/turn-${turn}.md`, prompt);
appendFileSync(".turns.log", `${turn}\n`);
// "Tokens": what a model would have read and written.
tell({ kind: "token_usage", input: Math.ceil(prompt.length / 4), output: 150 });

const done = (prompt.match(/^- step (\d+)/gm) ?? []).length;
const messages = [...prompt.matchAll(/^Message from (.+?) at .+?:\n(.+)$/gm)].map((m) => ({ by: m[1], text: m[2] }));
say(`turn ${turn}: ${done} steps done so far; ${messages.length} new message(s)`);
// A request from a person goes into the decision log, so later prompts still carry it.
for (const m of messages) decide(`- Request from ${m.by}: ${m.text}`);
await new Promise((resolve) => setTimeout(resolve, pace));

if (stuck) {
  say("thinking... nothing to change this turn");
  process.exit(0);
}

/** Runs the project's tests as a developer would, and reports the counts. */
function runTests() {
  tell({ kind: "test_run_started" });
  const run = spawnSync(process.execPath, ["--test"], { cwd: "project", encoding: "utf8" });
  const count = (name) => Number(run.stdout.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1] ?? 0);
  const result = { passed: count("pass"), failed: count("fail"), skipped: count("skipped") };
  tell({ kind: "test_run_completed", ...result });
  say(`$ node --test  ->  ${result.passed} passed, ${result.failed} failed`);
  return result;
}

const SLUG_BUGGY = `export function slugify(text) {
  return text.trim().replace(/\\s+/g, "-");
}
`;
const SLUG_FIXED = `export function slugify(text) {
  return text.trim().toLowerCase().replace(/\\s+/g, "-");
}
`;
const SLUG_EMPTY = `export function slugify(text) {
  if (typeof text !== "string" || text.trim() === "") return "untitled";
  return text.trim().toLowerCase().replace(/\\s+/g, "-");
}
`;
const TESTS = `import assert from "node:assert/strict";
import { test } from "node:test";
import { slugify } from "./slug.mjs";

test("lowercases", () => assert.equal(slugify("Hello"), "hello"));
test("joins words with dashes", () => assert.equal(slugify("a b  c"), "a-b-c"));
test("trims", () => assert.equal(slugify("  x "), "x"));
`;

switch (done) {
  case 0: {
    mkdirSync("project", { recursive: true });
    write("project/slug.mjs", SLUG_BUGGY);
    write("project/slug.test.mjs", TESTS);
    git("init", "-q");
    git("add", ".");
    git("-c", "user.name=agent", "-c", "user.email=agent@example.com", "commit", "-qm", "slugify and its tests");
    log("- step 1 (setup): created project/slug.mjs and its tests in a new git repository");
    decide("- Use node:test: no dependencies to install.");
    break;
  }
  case 1: {
    const { failed, passed } = runTests();
    log(`- step 2 (reproduce): ${failed} of ${failed + passed} tests fail; slugify does not lowercase`);
    write("notes.md", "slugify keeps capitals; lowercase it before joining words.\n");
    // Not the agent's call: ask, and end the turn. The run waits for the answer.
    tell({
      kind: "question",
      text: `slugify keeps capitals, so ${failed} of ${failed + passed} tests fail. Should I fix slugify, or change the tests to expect capitals?`,
    });
    break;
  }
  case 2: {
    // The answer to the question the last turn asked, as the prompt's "Answer:" line gives it.
    const answer = prompt.match(/^Answer: (.+)$/m)?.[1];
    decide(`- Asked whether to fix slugify or the tests. ${answer ?? "No answer came."} Fixing slugify.`);
    write("project/slug.mjs", SLUG_FIXED);
    const { failed, passed } = runTests();
    git("-c", "user.name=agent", "-c", "user.email=agent@example.com", "commit", "-qam", "slugify lowercases");
    log(`- step 3 (fix): slugify lowercases; ${passed} passed, ${failed} failed; committed`);
    break;
  }
  case 3: {
    const logged = [...prompt.matchAll(/^- Request from (.+?): (.+)$/gm)].map((m) => ({ by: m[1], text: m[2] }));
    const empty = [...logged, ...messages].find((r) => /empty/i.test(r.text));
    if (empty) {
      write("project/slug.mjs", SLUG_EMPTY);
      write(
        "project/slug.test.mjs",
        `${TESTS}test("names empty input", () => assert.equal(slugify("  "), "untitled"));\n`,
      );
      const { passed } = runTests();
      git("-c", "user.name=agent", "-c", "user.email=agent@example.com", "commit", "-qam", "slugify names empty input");
      log(`- step 4 (follow-up): did what ${empty.by} asked: empty input becomes "untitled"; ${passed} tests pass`);
      decide('- Empty input returns "untitled" rather than "": a slug must not be empty.');
    } else {
      const { passed } = runTests();
      log(`- step 4 (review): no requests from people; ${passed} tests pass`);
    }
    break;
  }
  default: {
    write("DONE", `finished in turn ${turn}\n`);
    log("- step 5 (finish): all done; created DONE");
  }
}
